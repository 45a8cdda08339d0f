"""Typed errors of publishing to the Hugging Face Hub, each with one line a user can act on.

Messages never carry a token: they are built from the status, the server's one-line reason
and the repository id, then passed through ``smoltrace_otel.redact``.
"""

from __future__ import annotations

from smoltrace_otel.errors import SmoltraceError, UsageError

RESUME_HINT = "the staged files are kept; run `smoltrace publish --resume` to push them later"
NO_TOKEN_MESSAGE = (
    "no Hugging Face token: set HF_TOKEN, or run `hf auth login` (tokens are never read from the command line)"
)


class HubError(SmoltraceError):
    """Publishing to the Hub failed (exit code 3)."""


class HubTokenMissingError(UsageError):
    """No Hugging Face token was configured (exit code 2)."""


class HubAuthError(HubError):
    """The Hub refused the token (401) or its permissions (403)."""


class HubNotFoundError(HubError):
    """A repository, revision or namespace does not exist or is not visible with this token (404)."""


class HubRejectedError(HubError):
    """The Hub refused the request itself (400: invalid card metadata, bad path...)."""


class HubUnavailableError(HubError):
    """The Hub could not be reached or kept failing until the retry deadline; the outbox keeps the run."""


class SecretInStagedFileError(HubError):
    """A staged file contains a secret value; nothing of the run was published."""
