"""``smoltrace publish --output-format hub`` and ``--resume`` end to end: a child process, a real SDK run, the fake Hub."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from smoltrace_otel.errors import ExitCode
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry
from tests.conftest import PYTHON, REPO_ROOT, subprocess_env
from tests.doubles.fake_hub import TEST_TOKEN, FakeHub, fake_hub_env
from tests.sample_run import Chat, GpuDevice, GpuEmitter, Task, emit_run

RUN = "hub-cli-run"
REPOS = {
    "results": "alice/my-results",
    "traces": "alice/smoltrace-traces",
    "metrics": "alice/smoltrace-metrics",
    "leaderboard": "alice/smoltrace-leaderboard",
}


def _sdk_run(exports: Path) -> None:
    agent = setup_telemetry(TelemetryConfig("smoltrace-agent", RUN, exports_dir=exports, metrics=False))
    run_span = emit_run(agent, [Task("t1", chats=[Chat(10, 5, 0.25)]), Task("t2", success=False)], end_run=False)
    sidecar = setup_telemetry(TelemetryConfig("gpu-sidecar", RUN, exports_dir=exports, traces=False))
    gpus = GpuEmitter(sidecar, [GpuDevice("GPU-1", utilization=0.5, memory_bytes=2**30, power_w=100.0)])
    gpus.sample()
    gpus.close()
    run_span.end()
    agent.shutdown()


def _smoltrace(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "smoltrace_otel", *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def _publish_args(tmp_path: Path) -> list[str]:
    return [
        "publish", "--run-id", RUN, "--exports", str(tmp_path / "exports"), "--output-dir", str(tmp_path / "out"),
        "--settle-seconds", "0", "--output-format", "hub", "--results-repo", "my-results",
    ]  # fmt: skip


def _commits(hub: FakeHub) -> dict[str, int]:
    return {repo: len(hub.repo(repo_id).commits) for repo, repo_id in REPOS.items()}


def test_publish_to_the_hub_pushes_the_four_datasets_and_a_second_run_commits_nothing(
    fake_hub: FakeHub, tmp_path: Path
) -> None:
    _sdk_run(tmp_path / "exports")
    env = subprocess_env(**fake_hub_env(fake_hub, str(tmp_path / "hf-home")))

    first = _smoltrace(env, *_publish_args(tmp_path))

    assert first.returncode == 0, first.stderr
    assert f"Published run {RUN} (completed): 2 task(s), 1 successful (50.0%)" in first.stdout
    assert f"Pushed run {RUN} to the Hub as alice:" in first.stdout
    month = next((tmp_path / "out" / "leaderboard" / "data").iterdir()).name
    files = {repo: fake_hub.repo(repo_id).head.files for repo, repo_id in REPOS.items()}
    for repo, repo_id in REPOS.items():
        stored = fake_hub.repo(repo_id)
        assert f"data/{month}/{RUN}.parquet" in files[repo] and "README.md" in files[repo], repo
        assert stored.private is True
        assert f"  {repo:<12} {repo_id}@{stored.head.oid[:12]} (new commit, private)" in first.stdout
    raw = json.loads(files["metrics"][f"raw/{month}/{RUN}.json"].data)
    assert raw["run_id"] == RUN and raw["resourceMetrics"]
    results = pq.read_table(pa.BufferReader(files["results"][f"data/{month}/{RUN}.parquet"].data)).to_pylist()
    assert sorted(r["task_id"] for r in results) == ["t1", "t2"]
    (row,) = pq.read_table(pa.BufferReader(files["leaderboard"][f"data/{month}/{RUN}.parquet"].data)).to_pylist()
    for repo in ("results", "traces", "metrics"):
        assert row[f"{repo}_dataset"] == REPOS[repo]
        assert row[f"{repo}_commit"] == fake_hub.repo(REPOS[repo]).head.oid
    assert (row["submitted_by"], row["run_status"], row["hardware"]) == ("alice", "completed", "1x NVIDIA A10G")
    assert not (tmp_path / "out" / ".outbox" / f"{RUN}.json").exists()
    before = _commits(fake_hub)

    again = _smoltrace(env, *_publish_args(tmp_path))

    assert again.returncode == 0, again.stderr
    assert _commits(fake_hub) == before
    assert again.stdout.count("(already there, private)") == 4
    assert TEST_TOKEN not in first.stdout + first.stderr + again.stdout + again.stderr


def test_a_publish_that_cannot_reach_the_hub_is_pushed_later_with_resume(fake_hub: FakeHub, tmp_path: Path) -> None:
    _sdk_run(tmp_path / "exports")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    offline = subprocess_env(**{**fake_hub_env(fake_hub, str(tmp_path / "hf-home")), "HF_ENDPOINT": closed})

    failed = _smoltrace(offline, *_publish_args(tmp_path), "--hub-deadline", "0.5")

    assert failed.returncode == ExitCode.RUN_FAILED, failed.stderr
    assert f"Published run {RUN}" in failed.stdout  # the local files are written first
    assert "smoltrace publish --resume" in failed.stderr
    assert json.loads((tmp_path / "out" / ".outbox" / f"{RUN}.json").read_text())["done"] == {}
    assert fake_hub.requests == []

    online = subprocess_env(**fake_hub_env(fake_hub, str(tmp_path / "hf-home")))
    resumed = _smoltrace(
        online, "publish", "--resume", "--output-dir", str(tmp_path / "out"), "--results-repo", "my-results"
    )

    assert resumed.returncode == 0, resumed.stderr
    assert f"Pushed run {RUN} to the Hub as alice:" in resumed.stdout
    assert _commits(fake_hub) == {repo: 2 for repo in REPOS}
    assert not os.listdir(tmp_path / "out" / ".outbox")
    nothing = _smoltrace(online, "publish", "--resume", "--output-dir", str(tmp_path / "out"))
    assert nothing.returncode == 0 and f"nothing pending in {tmp_path / 'out'}" in nothing.stdout
