"""Publishing staged runs to the four Hub dataset repositories, one commit per repository.

Order: results, traces and metrics first (each: create the repository if needed, then
one commit with the runs' files and the README card, recorded in the outbox as it
lands); then the leaderboard rows, filled with the dataset ids, the commits holding each
run's files and ``submitted_by``, in one last commit. The outbox entries are cleared at
the end. Any failure leaves them, with what was done, for ``resume_pending``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from publisher.cards import render_card
from publisher.hub_http import install_http_timeout
from publisher.hub_retry import with_retries
from publisher.hub_settings import HubSettings, repo_ids, resolve_endpoint, resolve_token
from publisher.hub_sync import PushOutcome, UploadFile, push_files
from publisher.layout import REPOS, Repo, RunLayout
from publisher.leaderboard_links import fill_links
from publisher.outbox import Outbox, PendingRun, RepoDone
from publisher.secret_guard import ensure_no_secrets, secrets_to_check
from smoltrace_otel import __version__
from smoltrace_otel.errors import UsageError

if TYPE_CHECKING:
    from huggingface_hub import HfApi

log = logging.getLogger(__name__)
RUN_REPOS: tuple[Repo, ...] = ("results", "traces", "metrics")
T = TypeVar("T")


@dataclass(frozen=True)
class RepoOutcome:
    repo_id: str
    commit: str | None
    """The commit that holds the run's files in this repository."""
    committed: bool
    """Whether this publish made that commit (False: already there, or done by an earlier try)."""
    private: bool | None = None


@dataclass(frozen=True)
class HubPublishResult:
    run_id: str
    submitted_by: str
    repos: Mapping[Repo, RepoOutcome] = field(default_factory=dict)

    @property
    def new_commits(self) -> int:
        return sum(1 for outcome in self.repos.values() if outcome.committed)


class HubSession:
    """One publish's connection: the client, the token, ``whoami`` (asked once) and the repository ids."""

    def __init__(self, settings: HubSettings) -> None:
        from huggingface_hub import HfApi

        self.settings = settings
        self._token = resolve_token(settings)
        self.secrets = secrets_to_check(self._token)
        install_http_timeout(settings.timeout)
        self.api: HfApi = HfApi(
            endpoint=resolve_endpoint(settings),
            token=self._token,
            library_name="smoltrace-otel",
            library_version=__version__,
        )
        self._private: dict[Repo, bool | None] = {}

    def retrying(self, action: Callable[[], T], what: str) -> T:
        return with_retries(action, what=what, policy=self.settings.retry, secrets=self.secrets)

    @cached_property
    def user(self) -> str:
        """The token's user name (``submitted_by``), from one ``whoami`` call."""
        return str(self.retrying(self.api.whoami, "whoami")["name"])

    @cached_property
    def repo_ids(self) -> dict[Repo, str]:
        return repo_ids(self.settings, self.user)

    def ensure_repo(self, repo: Repo) -> bool | None:
        """Create ``repo`` if missing (``exist_ok``); its visibility, with a warning if it differs from the request."""
        if repo in self._private:
            return self._private[repo]
        repo_id, private = self.repo_ids[repo], self.settings.private
        self.retrying(
            lambda: self.api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
            f"create {repo_id}",
        )
        actual = self.retrying(lambda: self.api.repo_info(repo_id, repo_type="dataset"), f"read {repo_id}").private
        if actual is not None and actual != private:
            log.warning(
                "%s already exists and is %s; its visibility is left as it is (change it in its settings)",
                repo_id,
                "private" if actual else "public",
            )
        self._private[repo] = actual
        return actual

    def visibility(self, repo: Repo) -> bool | None:
        """Whether ``repo`` is private, if this session looked (``None`` otherwise)."""
        return self._private.get(repo)


def _describe(runs: list[RunLayout]) -> tuple[str, str]:
    """Commit title and description: the run ids, never anything else."""
    ids = [run.run_id for run in runs]
    title = f"smoltrace: add run {ids[0]}" if len(ids) == 1 else f"smoltrace: add {len(ids)} runs"
    return title, f"Runs: {', '.join(ids)}. Published by smoltrace-otel {__version__}."


def _card(repo: Repo, files: list[Path], ids: Mapping[Repo, str]) -> UploadFile:
    """The card, describing the union of the files' schemas (the last file's if they conflict)."""
    schemas = [pq.read_schema(path) for path in files]
    try:
        schema = pa.unify_schemas(schemas)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        log.warning("the staged %s files have conflicting schemas (%s); the card describes the last one", repo, error)
        schema = schemas[-1]
    return UploadFile("README.md", render_card(repo, schema, ids).encode())


def _push_repo(
    session: HubSession, repo: Repo, runs: list[RunLayout], states: dict[str, PendingRun], outbox: Outbox
) -> dict[str, bool]:
    """One commit to ``repo`` for ``runs``; records each run's commit in the outbox. Run id -> committed."""
    repo_id = session.repo_ids[repo]
    staged = {run.run_id: [(local, path) for local, path in run.files_for(repo) if local.is_file()] for run in runs}
    for run in runs:
        if not staged[run.run_id]:
            log.warning("run %s has no staged %s file; %s is skipped for it", run.run_id, repo, repo_id)
            states[run.run_id] = states[run.run_id].with_done(repo, RepoDone(repo_id, None))
            outbox.save(states[run.run_id])
    runs = [run for run in runs if staged[run.run_id]]
    if not runs:
        return {}
    session.ensure_repo(repo)
    files = [UploadFile(path, local) for run in runs for local, path in staged[run.run_id]]
    data_files = [run.data_file(repo) for run in runs if run.data_file(repo).is_file()]
    if data_files:
        files.append(_card(repo, data_files, session.repo_ids))
    message, description = _describe(runs)
    outcome: PushOutcome = push_files(
        session.api,
        repo_id,
        files,
        message=message,
        description=description,
        policy=session.settings.retry,
        secrets=session.secrets,
    )
    for run in runs:
        commit = outcome.commits.get(staged[run.run_id][0][1])
        states[run.run_id] = states[run.run_id].with_done(repo, RepoDone(repo_id, commit))
        outbox.save(states[run.run_id])
    return {run.run_id: outcome.committed for run in runs}


def _link_values(state: PendingRun, user: str) -> dict[str, str | None]:
    values: dict[str, str | None] = {"submitted_by": user}
    for repo in RUN_REPOS:
        done = state.done.get(repo)
        values[f"{repo}_dataset"] = done.repo_id if done else None
        values[f"{repo}_commit"] = done.commit if done else None
    return values


def publish_batch(runs: list[RunLayout], settings: HubSettings, outbox: Outbox) -> list[HubPublishResult]:
    """Publish staged ``runs`` (one commit per repository for all of them); outbox entries cleared on success."""
    for run in runs:
        if not any(local.is_file() for repo in REPOS for local, _ in run.files_for(repo)):
            raise UsageError(f"nothing is staged for run {run.run_id} under {run.root}")
    states = {run.run_id: outbox.begin(run) for run in runs}
    session = HubSession(settings)
    ensure_no_secrets(
        [local for run in runs for repo in REPOS for local, _ in run.files_for(repo) if local.is_file()],
        session.secrets,
    )
    committed: dict[tuple[str, Repo], bool] = {}
    for repo in REPOS:
        if repo == "leaderboard":  # the rows link the commits made above
            for run in runs:
                if run.data_file(repo).is_file():
                    fill_links(run.data_file(repo), _link_values(states[run.run_id], session.user))
        todo = [run for run in runs if repo not in states[run.run_id].done]
        for run_id, made in _push_repo(session, repo, todo, states, outbox).items():
            committed[(run_id, repo)] = made
    results = []
    for run in runs:
        repos = {
            repo: RepoOutcome(
                done.repo_id, done.commit, committed.get((run.run_id, repo), False), session.visibility(repo)
            )
            for repo, done in states[run.run_id].done.items()
        }
        results.append(HubPublishResult(run.run_id, session.user, repos))
        outbox.clear(run.run_id)
    return results
