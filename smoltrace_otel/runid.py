"""Run ids: generated as UUID4, validated when given.

A run id becomes a directory name in the Collector's output
(``exports/<run_id>/``) and a file stem on the Hub (``data/<YYYY-MM>/<run_id>.parquet``),
so only a short, path-safe token is accepted.
"""

from __future__ import annotations

import re
import uuid

from smoltrace_otel.errors import InvalidRunIdError

RUN_ID_ATTRIBUTE = "run.id"
"""The resource attribute that carries the run id on every signal."""

UNASSIGNED = "unassigned"
"""Reserved: the Collector files resources without a run id under this name."""

MAX_RUN_ID_LENGTH = 128
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

RUN_ID_RULE = (
    f"1 to {MAX_RUN_ID_LENGTH} characters from letters, digits, '.', '_' and '-', "
    f"starting with a letter or digit, without '..', and not '{UNASSIGNED}'"
)


def new_run_id() -> str:
    """Return a fresh run id (a UUID4 in its canonical text form)."""
    return str(uuid.uuid4())


def validate_run_id(value: str) -> str:
    """Return ``value`` unchanged if it is a usable run id, else raise InvalidRunIdError."""
    if not isinstance(value, str):
        raise InvalidRunIdError(f"invalid run id {value!r}: expected text; allowed: {RUN_ID_RULE}")
    shown = value if len(value) <= 40 else value[:37] + "..."
    if (
        not value
        or len(value) > MAX_RUN_ID_LENGTH
        or not _ALLOWED.fullmatch(value)
        or ".." in value
        or value == UNASSIGNED
    ):
        raise InvalidRunIdError(f"invalid run id {shown!r}: allowed is {RUN_ID_RULE}")
    return value


def resolve_run_id(value: str | None) -> str:
    """Validate a user-given run id, or generate one when none is given."""
    return new_run_id() if value is None else validate_run_id(value)
