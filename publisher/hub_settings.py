"""Settings of a Hub publish, the four repository ids, and where the token comes from.

Four dataset repositories per user or organisation, named ``<namespace>/smoltrace-<kind>``
unless given: results, traces, metrics, leaderboard. The namespace is the token's user
(from ``whoami``) unless given. The token comes from ``HF_TOKEN``, the token file or the
library's login (``huggingface_hub.get_token()``), or from a caller passing it in code;
never from a command-line argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from publisher.hub_errors import NO_TOKEN_MESSAGE, HubTokenMissingError
from publisher.hub_http import HttpTimeout
from publisher.hub_retry import RetryPolicy
from publisher.layout import REPOS, Repo
from smoltrace_otel.errors import UsageError

DEFAULT_REPO_PREFIX = "smoltrace"


@dataclass(frozen=True)
class HubSettings:
    """Where and how to publish. Repo names may be ``name`` (in ``namespace``) or ``owner/name``."""

    namespace: str | None = None
    """User or organisation owning the repositories; default: the token's user."""
    results_repo: str | None = None
    traces_repo: str | None = None
    metrics_repo: str | None = None
    leaderboard_repo: str | None = None
    private: bool = True
    """Visibility of repositories this publish creates (existing ones keep theirs)."""
    endpoint: str | None = None
    """Hub URL; default: ``huggingface_hub``'s own (``HF_ENDPOINT`` or https://huggingface.co)."""
    timeout: HttpTimeout = field(default_factory=HttpTimeout)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    token: str | None = field(default=None, repr=False, compare=False)
    """Only for callers passing a token in code; kept out of ``repr``, logs and files."""

    def given_repo(self, repo: Repo) -> str | None:
        return {
            "results": self.results_repo,
            "traces": self.traces_repo,
            "metrics": self.metrics_repo,
            "leaderboard": self.leaderboard_repo,
        }[repo]


def repo_ids(settings: HubSettings, user: str) -> dict[Repo, str]:
    """The four repository ids for ``settings`` and the token's ``user``."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    namespace = settings.namespace or user
    ids: dict[Repo, str] = {}
    for repo in REPOS:
        given = settings.given_repo(repo) or f"{DEFAULT_REPO_PREFIX}-{repo}"
        repo_id = given if "/" in given else f"{namespace}/{given}"
        try:
            validate_repo_id(repo_id)
        except HFValidationError as error:
            raise UsageError(f"invalid {repo} repository id {repo_id!r}: {error}") from None
        ids[repo] = repo_id
    return ids


def resolve_token(settings: HubSettings) -> str:
    """The token to use: the one passed in code, else ``HF_TOKEN``, the token file or the library's login."""
    from huggingface_hub import get_token

    token = settings.token or get_token()
    if not token:
        raise HubTokenMissingError(NO_TOKEN_MESSAGE)
    return token


def resolve_endpoint(settings: HubSettings) -> str:
    from huggingface_hub import constants

    return (settings.endpoint or constants.ENDPOINT).rstrip("/")
