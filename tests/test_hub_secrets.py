"""No secret reaches the Hub, the outbox, the logs or an error message."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from publisher.hub import HubSettings, publish_run_to_hub
from publisher.hub_errors import HubRejectedError, SecretInStagedFileError
from publisher.hub_retry import RetryPolicy
from tests.doubles.fake_hub import TEST_TOKEN, FakeHub
from tests.staged_runs import stage_run

FAST = RetryPolicy(deadline_s=20, base_delay_s=0.01, max_delay_s=0.05)
API_KEY = "sk-proj-SecretOpenAiKeyForTests0123456789"


def local_bytes(root: Path) -> list[tuple[str, bytes]]:
    return [(str(p), p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_no_secret_in_any_stored_byte(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    fake_hub.inject("commit", 500, repo="alice/smoltrace-traces", land_first=True)  # error paths log too
    fake_hub.inject("commit", 409, repo="alice/smoltrace-leaderboard")
    caplog.set_level(logging.DEBUG)
    layout = stage_run(tmp_path / "out", "run-0001")
    offline = HubSettings(endpoint="http://127.0.0.1:9", retry=RetryPolicy(deadline_s=0.1, base_delay_s=0.05))
    with pytest.raises(Exception, match="resume"):
        publish_run_to_hub(layout, offline)  # leaves an outbox entry behind first

    publish_run_to_hub(layout, HubSettings(retry=FAST))

    stored = list(fake_hub.stored_bytes())
    assert len(stored) > 20
    everything = [*stored, *local_bytes(tmp_path / "out"), ("logs", caplog.text.encode())]
    for where, data in everything:
        for secret in (TEST_TOKEN, API_KEY):
            assert secret.encode() not in data, f"{secret[:5]}... found in {where}"


def test_a_staged_file_holding_the_token_stops_the_publish_before_any_upload(fake_hub: FakeHub, tmp_path: Path) -> None:
    layout = stage_run(tmp_path / "out", "run-0001", prompt=f"please use {TEST_TOKEN} to log in")

    with pytest.raises(SecretInStagedFileError) as caught:
        publish_run_to_hub(layout, HubSettings(retry=FAST))

    message = str(caught.value)
    assert "results/data/2025-01/run-0001.parquet" in message and "'prompt'" in message
    assert TEST_TOKEN not in message
    assert fake_hub.requests == []
    assert not any(TEST_TOKEN.encode() in data for _, data in fake_hub.stored_bytes())


def test_a_secret_env_value_in_the_raw_metrics_json_is_caught(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    layout = stage_run(tmp_path / "out", "run-0001")
    layout.raw_metrics_file().write_text('{"resourceMetrics": [], "note": "' + API_KEY + '"}')

    with pytest.raises(SecretInStagedFileError, match=r"metrics/raw/2025-01/run-0001\.json contains a secret"):
        publish_run_to_hub(layout, HubSettings(retry=FAST))


def test_a_server_error_echoing_the_token_is_redacted(fake_hub: FakeHub, tmp_path: Path) -> None:
    fake_hub.inject("commit", 400, repo="alice/smoltrace-results", message=f"bad request from token {TEST_TOKEN}")

    with pytest.raises(HubRejectedError) as caught:
        publish_run_to_hub(stage_run(tmp_path / "out", "run-0001"), HubSettings(retry=FAST))

    assert "HTTP 400" in str(caught.value) and "[REDACTED]" in str(caught.value)
    assert TEST_TOKEN not in str(caught.value)


def test_settings_never_show_a_token_given_in_code() -> None:
    settings = HubSettings(token=TEST_TOKEN)
    assert TEST_TOKEN not in repr(settings) and TEST_TOKEN not in str(settings)
