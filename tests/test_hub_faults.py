"""Hub failures: conflicts, rate limits, lost answers, bad tokens, no network, a killed publisher."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from publisher.hub import HubSettings, publish_run_to_hub, resume_pending
from publisher.hub_errors import HubAuthError, HubTokenMissingError, HubUnavailableError
from publisher.hub_http import HttpTimeout
from publisher.hub_retry import RetryPolicy
from publisher.layout import REPOS
from publisher.outbox import Outbox
from smoltrace_otel.errors import ExitCode
from tests.conftest import PYTHON, REPO_ROOT, subprocess_env
from tests.doubles.fake_hub import TEST_TOKEN, FakeHub, fake_hub_env
from tests.staged_runs import stage_run

FAST = RetryPolicy(deadline_s=20, base_delay_s=0.01, max_delay_s=0.05)
RESULTS = "alice/smoltrace-results"
RUN = "run-0001"


def commits_of(hub: FakeHub, repo_id: str) -> list[str]:
    return [c.title for c in hub.repo(repo_id).commits]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize("status", [409, 412, 429, 500, 503])
def test_a_refused_commit_is_retried_and_lands_exactly_once(fake_hub: FakeHub, tmp_path: Path, status: int) -> None:
    fake_hub.inject("commit", status, repo=RESULTS, times=2)

    result = publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=FAST))

    assert commits_of(fake_hub, RESULTS) == ["initial commit", f"smoltrace: add run {RUN}"]
    assert result.repos["results"].committed
    assert fake_hub.count("POST", "commit") == 4 + 2


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"status": 500}, id="500"),
        pytest.param({"status": 502}, id="502"),
        pytest.param({"drop": True}, id="dropped-connection"),
        pytest.param({"hang_s": 1.0}, id="timeout"),
    ],
)
def test_a_commit_that_landed_before_the_failure_is_not_repeated(
    fake_hub: FakeHub, tmp_path: Path, fault: dict
) -> None:
    fake_hub.inject("commit", repo=RESULTS, land_first=True, **fault)
    settings = HubSettings(retry=FAST, timeout=HttpTimeout(connect_s=2, read_s=0.3))

    result = publish_run_to_hub(stage_run(tmp_path, RUN), settings)

    results = fake_hub.repo(RESULTS)
    assert commits_of(fake_hub, RESULTS) == ["initial commit", f"smoltrace: add run {RUN}"]
    assert fake_hub.count("POST", "commit") == 4  # the retry found the files and sent nothing
    assert fake_hub.count("POST", "paths-info") == 4 + 1  # ... because it looked before committing again
    assert result.repos["results"].commit == results.head.oid
    assert result.repos["results"].committed


def test_every_request_carries_the_configured_timeout(fake_hub: FakeHub, tmp_path: Path) -> None:
    from huggingface_hub import get_session

    publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=FAST, timeout=HttpTimeout(connect_s=3, read_s=7)))

    timeout = get_session().timeout
    assert (timeout.connect, timeout.read, timeout.write) == (3, 7, 7)


def test_rate_limit_retry_after_is_honoured_within_the_deadline(fake_hub: FakeHub, tmp_path: Path) -> None:
    fake_hub.inject("commit", 429, repo=RESULTS, retry_after=30)

    with pytest.raises(HubUnavailableError, match=r"HTTP 429.*--resume"):
        publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=RetryPolicy(deadline_s=5, base_delay_s=0.01)))

    assert fake_hub.count("POST", "commit") == 1  # waiting 30 s would pass the 5 s deadline: it gave up at once


def test_a_bad_token_fails_at_once_with_a_clear_message(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = "hf_ThisTokenIsNotKnownToTheHub42"
    monkeypatch.setenv("HF_TOKEN", bad)

    with pytest.raises(HubAuthError) as caught:
        publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=FAST))

    message = str(caught.value)
    assert "whoami: HTTP 401" in message and "HF_TOKEN" in message
    assert bad not in message
    assert caught.value.exit_code == ExitCode.RUN_FAILED
    assert fake_hub.requests == [("GET", "whoami")]


def test_a_read_only_token_is_refused_at_once(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_only = "hf_ReadOnlyTokenForTheFakeHub01"
    fake_hub.tokens[read_only] = ("alice", "read")
    monkeypatch.setenv("HF_TOKEN", read_only)

    with pytest.raises(HubAuthError, match=r"create alice/smoltrace-results: HTTP 403.*write access"):
        publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=FAST))

    assert fake_hub.count("POST", "create") == 1


def test_no_token_anywhere_is_a_usage_error(fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")

    with pytest.raises(HubTokenMissingError, match="set HF_TOKEN, or run `hf auth login`") as caught:
        publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=FAST))

    assert caught.value.exit_code == ExitCode.BAD_INPUT
    assert fake_hub.requests == []


def test_the_token_file_of_hf_auth_login_is_used(
    fake_hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_TOKEN")
    Path(constants.HF_TOKEN_PATH).parent.mkdir(parents=True, exist_ok=True)
    Path(constants.HF_TOKEN_PATH).write_text(TEST_TOKEN)

    assert publish_run_to_hub(stage_run(tmp_path, RUN), HubSettings(retry=FAST)).submitted_by == "alice"


def test_a_bad_token_through_the_command_line_exits_3_without_the_secret(fake_hub: FakeHub, tmp_path: Path) -> None:
    bad = "hf_ThisTokenIsNotKnownToTheHub42"
    Outbox(tmp_path / "out").begin(stage_run(tmp_path / "out", RUN))  # a run a Hub publish left pending
    env = subprocess_env(**fake_hub_env(fake_hub, str(tmp_path / "hf-home"), token=bad))

    def smoltrace(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PYTHON, "-m", "smoltrace_otel", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
        )

    done = smoltrace("publish", "--resume", "--output-dir", str(tmp_path / "out"))

    assert done.returncode == ExitCode.RUN_FAILED, done.stderr
    assert "smoltrace publish: error: whoami: HTTP 401" in done.stderr
    assert bad not in done.stderr + done.stdout
    assert [pending.run_id for pending in Outbox(tmp_path / "out").pending()] == [RUN]
    assert "--hf-token" not in smoltrace("publish", "--help").stdout


def test_no_network_keeps_the_run_in_the_outbox_then_resume_pushes_it(fake_hub: FakeHub, tmp_path: Path) -> None:
    layout = stage_run(tmp_path, RUN)
    offline = HubSettings(endpoint=closed_port_url(), retry=RetryPolicy(deadline_s=0.3, base_delay_s=0.05))

    with pytest.raises(HubUnavailableError, match=r"whoami: .*ConnectError.*smoltrace publish --resume"):
        publish_run_to_hub(layout, offline)

    (pending,) = Outbox(tmp_path).pending()
    assert (pending.run_id, pending.month, pending.done) == (RUN, "2025-01", {})
    assert fake_hub.requests == []

    (result,) = resume_pending(tmp_path, HubSettings(retry=FAST))

    assert result.new_commits == 4
    assert Outbox(tmp_path).pending() == []
    assert all(len(fake_hub.repo(f"alice/smoltrace-{repo}").commits) == 2 for repo in REPOS)


def test_resume_pushes_all_pending_runs_with_one_commit_per_repository(fake_hub: FakeHub, tmp_path: Path) -> None:
    offline = HubSettings(endpoint=closed_port_url(), retry=RetryPolicy(deadline_s=0.1, base_delay_s=0.05))
    for run_id in ("run-a", "run-b", "run-c"):
        with pytest.raises(HubUnavailableError):
            publish_run_to_hub(stage_run(tmp_path, run_id), offline)

    results = resume_pending(tmp_path, HubSettings(retry=FAST))

    assert [r.run_id for r in results] == ["run-a", "run-b", "run-c"]
    for repo in REPOS:
        stored = fake_hub.repo(f"alice/smoltrace-{repo}")
        assert [c.title for c in stored.commits] == ["initial commit", "smoltrace: add 3 runs"]
        assert {f"data/2025-01/run-{x}.parquet" for x in "abc"} <= set(stored.head.files)
        assert {r.repos[repo].commit for r in results} == {stored.head.oid}
    assert resume_pending(tmp_path, HubSettings(retry=FAST)) == []


def test_a_publisher_killed_mid_publish_is_resumed_without_recommitting(fake_hub: FakeHub, tmp_path: Path) -> None:
    stage_run(tmp_path / "out", RUN)
    fake_hub.inject("commit", repo="alice/smoltrace-leaderboard", hang_s=60)
    entry = tmp_path / "out" / ".outbox" / f"{RUN}.json"
    script = (
        "import sys; from publisher.hub import HubSettings, find_staged_run, publish_run_to_hub; "
        "publish_run_to_hub(find_staged_run(sys.argv[1], sys.argv[2]), HubSettings())"
    )
    env = subprocess_env(**fake_hub_env(fake_hub, str(tmp_path / "hf-home")))
    child = subprocess.Popen([PYTHON, "-c", script, str(tmp_path / "out"), RUN], env=env, cwd=REPO_ROOT)
    try:
        deadline = time.monotonic() + 90
        while fake_hub.count("POST", "commit") < 4 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert fake_hub.count("POST", "commit") == 4, "the publisher never reached the leaderboard commit"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()

    done = json.loads(entry.read_text())["done"]
    assert sorted(done) == ["metrics", "results", "traces"]
    before = {repo: len(fake_hub.repo(f"alice/smoltrace-{repo}").commits) for repo in ("results", "traces", "metrics")}

    (result,) = resume_pending(tmp_path / "out", HubSettings(retry=FAST))

    assert {repo: len(fake_hub.repo(f"alice/smoltrace-{repo}").commits) for repo in before} == before
    assert commits_of(fake_hub, "alice/smoltrace-leaderboard") == ["initial commit", f"smoltrace: add run {RUN}"]
    assert result.repos["results"].commit == done["results"]["commit"]
    assert not entry.exists()
