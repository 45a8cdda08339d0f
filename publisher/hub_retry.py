"""Retrying Hub calls: which failures to retry, how long to wait, and when to give up.

``huggingface_hub`` does not retry ``create_commit`` itself. We retry, with jittered
exponential backoff under one total deadline:

* 409 (another commit in progress), 412 (stale parent), 429 (rate limited, honouring
  ``Retry-After``) and a refused connection: the request did not take effect;
* 5xx, timeouts and dropped connections: *ambiguous*, the commit may have landed. Callers
  make every attempt start by comparing the remote files with the local ones, so the
  attempt after an ambiguous failure finds the landed files and commits nothing;
* 401, 403, 404, 400 fail at once with a typed error whose one-line message has no secret.
"""

from __future__ import annotations

import enum
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from publisher.hub_errors import (
    NO_TOKEN_MESSAGE,
    RESUME_HINT,
    HubAuthError,
    HubError,
    HubNotFoundError,
    HubRejectedError,
    HubTokenMissingError,
    HubUnavailableError,
)
from publisher.hub_http import http_module
from smoltrace_otel.errors import SmoltraceError
from smoltrace_otel.redact import redact

log = logging.getLogger(__name__)
T = TypeVar("T")
_MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff ``base_delay_s * 2**(n-1)`` capped at ``max_delay_s``, half of it random, within ``deadline_s``."""

    deadline_s: float = 300.0
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0


class Verdict(enum.Enum):
    RETRY = "retry"
    """The request did not take effect; send it again."""
    AMBIGUOUS = "ambiguous"
    """The request may have taken effect (5xx, timeout, dropped connection); check before resending."""
    FATAL = "fatal"


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_of(error: BaseException) -> int | None:
    from huggingface_hub.errors import HfHubHTTPError

    for cause in _causes(error):
        if isinstance(cause, HfHubHTTPError) and cause.response is not None:
            return int(cause.response.status_code)
    return None


def classify(error: BaseException) -> Verdict:
    """Whether ``error`` from a Hub call is worth retrying, and whether it may have taken effect."""
    http = http_module()

    status = _status_of(error)
    if status is not None:
        if status in (409, 412, 429):
            return Verdict.RETRY
        if status == 408 or status >= 500:
            return Verdict.AMBIGUOUS
        return Verdict.FATAL
    for cause in _causes(error):
        if isinstance(cause, http.ConnectError | http.ConnectTimeout):
            return Verdict.RETRY
        if isinstance(cause, http.TransportError):
            return Verdict.AMBIGUOUS
    return Verdict.FATAL


def _server_reason(error: BaseException) -> str:
    from huggingface_hub.errors import HfHubHTTPError

    for cause in _causes(error):
        if isinstance(cause, HfHubHTTPError):
            reason = cause.server_message or str(cause).strip().splitlines()[0]
            return " ".join(reason.split())
    return type(error).__name__


def describe(error: BaseException, what: str, secrets: tuple[str, ...] = ()) -> str:
    """One line about ``error`` for a user: what failed, the status and the server's reason, no secret."""
    status = _status_of(error)
    reason = _server_reason(error) if status is not None else f"{type(error).__name__}: {error}".splitlines()[0]
    line = f"{what}: HTTP {status}: {reason}" if status is not None else f"{what}: {reason}"
    return redact(line, secrets)[:_MESSAGE_LIMIT]


def as_hub_error(error: BaseException, what: str, secrets: tuple[str, ...] = ()) -> SmoltraceError:
    """The typed error a fatal (not retried) failure of ``what`` becomes."""
    from huggingface_hub.errors import LocalTokenNotFoundError, OfflineModeIsEnabled

    if isinstance(error, SmoltraceError):
        return error
    if isinstance(error, LocalTokenNotFoundError):
        return HubTokenMissingError(NO_TOKEN_MESSAGE)
    if isinstance(error, OfflineModeIsEnabled):
        return HubUnavailableError(f"{what}: HF_HUB_OFFLINE is set; {RESUME_HINT}")
    line = describe(error, what, secrets)
    status = _status_of(error)
    if status == 401:
        return HubAuthError(f"{line} (the token was refused: check HF_TOKEN or `hf auth login`)")
    if status == 403:
        return HubAuthError(f"{line} (the token lacks write access to this namespace)")
    if status == 404:
        return HubNotFoundError(line)
    if status in (400, 422) or "Invalid metadata in README.md" in str(error):
        return HubRejectedError(line)
    return HubError(line)


def _retry_after_s(error: BaseException) -> float | None:
    from huggingface_hub.errors import HfHubHTTPError

    for cause in _causes(error):
        if isinstance(cause, HfHubHTTPError) and cause.response is not None:
            value = cause.response.headers.get("Retry-After", "")
            return float(value) if value.strip().isdigit() else None
    return None


def backoff_delay(attempt: int, policy: RetryPolicy, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped, half of it jittered."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * 2 ** (attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2


def with_retries(
    action: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    secrets: tuple[str, ...] = (),
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Run ``action`` until it succeeds, fails for good, or the deadline would pass.

    ``action`` must be safe to repeat: it rebuilds its request objects on every call and,
    for commits, first checks what already landed.
    """
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except Exception as error:
            verdict = classify(error)
            if verdict is Verdict.FATAL:
                raise as_hub_error(error, what, secrets) from None
            delay = backoff_delay(attempt, policy)
            delay = max(delay, _retry_after_s(error) or 0.0)
            elapsed = clock() - start
            line = describe(error, what, secrets)
            if elapsed + delay > policy.deadline_s:
                raise HubUnavailableError(
                    f"{line} (gave up after {attempt} attempts in {elapsed:.0f}s; {RESUME_HINT})"
                ) from None
            check = "; will check whether it landed" if verdict is Verdict.AMBIGUOUS else ""
            log.warning("%s (attempt %d, retrying in %.2fs%s)", line, attempt, delay, check)
            sleep(delay)
