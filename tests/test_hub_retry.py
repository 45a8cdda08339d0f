"""The retry rules: what is retried, how long it waits, when it gives up (with a simulated clock)."""

from __future__ import annotations

import pytest
from huggingface_hub.errors import HfHubHTTPError

from publisher.hub_errors import HubAuthError, HubNotFoundError, HubRejectedError, HubUnavailableError
from publisher.hub_http import http_module
from publisher.hub_retry import RetryPolicy, Verdict, backoff_delay, classify, with_retries

http = http_module()
TOKEN = "hf_RetryTestsSecretToken123456"


def http_error(status: int, headers: dict[str, str] | None = None, body: str = '{"error": "nope"}') -> HfHubHTTPError:
    request = http.Request("POST", "https://huggingface.co/api/datasets/a/b/commit/main")
    response = http.Response(status, headers=headers or {}, content=body.encode(), request=request)
    return HfHubHTTPError(f"{status} error", response=response, server_message="nope")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(errors: list[BaseException], result: str = "done"):  # type: ignore[no-untyped-def]
    calls = []

    def action() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return action, calls


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (http_error(409), Verdict.RETRY),
        (http_error(412), Verdict.RETRY),
        (http_error(429), Verdict.RETRY),
        (http.ConnectError("refused"), Verdict.RETRY),
        (http_error(500), Verdict.AMBIGUOUS),
        (http_error(503), Verdict.AMBIGUOUS),
        (http.ReadTimeout("slow"), Verdict.AMBIGUOUS),
        (http.RemoteProtocolError("Server disconnected without sending a response."), Verdict.AMBIGUOUS),
        (http_error(401), Verdict.FATAL),
        (http_error(403), Verdict.FATAL),
        (http_error(404), Verdict.FATAL),
        (http_error(400), Verdict.FATAL),
        (ValueError("Invalid metadata in README.md"), Verdict.FATAL),
    ],
)
def test_failures_are_classified(error: BaseException, verdict: Verdict) -> None:
    assert classify(error) is verdict


def test_a_wrapped_cause_is_classified_by_its_cause() -> None:
    try:
        try:
            raise http.ReadTimeout("slow")
        except http.ReadTimeout as inner:
            raise RuntimeError("Error while uploading 'data/x.parquet' to the Hub.") from inner
    except RuntimeError as outer:
        assert classify(outer) is Verdict.AMBIGUOUS


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=8)
    assert [backoff_delay(n, policy, rng=lambda: 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert [backoff_delay(n, policy, rng=lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]


def test_transient_failures_are_retried_until_success() -> None:
    clock = Clock()
    action, calls = failing([http_error(409), http_error(500), http.ConnectError("refused")])

    assert with_retries(action, what="commit", policy=RetryPolicy(), sleep=clock.sleep, clock=clock) == "done"
    assert len(calls) == 4 and len(clock.sleeps) == 3


def test_retry_after_is_waited_for() -> None:
    clock = Clock()
    action, _ = failing([http_error(429, {"Retry-After": "7"})])

    with_retries(action, what="commit", policy=RetryPolicy(), sleep=clock.sleep, clock=clock)

    assert clock.sleeps == [7.0]


def test_retries_stop_before_the_deadline_with_a_resume_hint() -> None:
    clock = Clock()
    action, calls = failing([http_error(503)] * 100)

    with pytest.raises(HubUnavailableError, match=r"commit: HTTP 503: nope \(gave up after \d+ attempts.*--resume"):
        with_retries(
            action,
            what="commit",
            policy=RetryPolicy(deadline_s=30, base_delay_s=1, max_delay_s=8),
            sleep=clock.sleep,
            clock=clock,
        )

    assert clock.now <= 30
    assert 4 <= len(calls) < 20


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(401, HubAuthError), (403, HubAuthError), (404, HubNotFoundError), (400, HubRejectedError)],
)
def test_client_errors_fail_at_once_with_a_typed_error(status: int, error_type: type) -> None:
    clock = Clock()
    action, calls = failing([http_error(status)])

    with pytest.raises(error_type, match=f"create a/b: HTTP {status}: nope"):
        with_retries(action, what="create a/b", policy=RetryPolicy(), sleep=clock.sleep, clock=clock)

    assert len(calls) == 1 and clock.sleeps == []


def test_error_messages_hold_no_token() -> None:
    error = HfHubHTTPError(
        "boom",
        response=http.Response(401, request=http.Request("GET", "https://x")),
        server_message=f"token {TOKEN} refused",
    )
    action, _ = failing([error])

    with pytest.raises(HubAuthError) as caught:
        with_retries(action, what="whoami", policy=RetryPolicy(), secrets=(TOKEN,), sleep=lambda _: None)

    assert TOKEN not in str(caught.value)
