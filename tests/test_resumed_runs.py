"""Runs with several run spans: resumed attempts (``smoltrace run --resume``) and shards, exported by the real SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from publisher.collect import CollectOptions
from publisher.local import PublishedRun, PublishRequest, publish_local
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry
from tests.sample_run import GpuDevice, GpuEmitter, Task, emit_run, finish_run

RUN = "resumed-run"
INTERRUPTED = {"stop_reason": "interrupted", "success": False, "steps": 1}


def _attempt(exports: Path, tasks: list[Task], **options: Any) -> None:
    """One `smoltrace run` process: its own telemetry, a run span and the tasks it ran."""
    agent = setup_telemetry(TelemetryConfig("smoltrace-agent", RUN, exports_dir=exports, metrics=False))
    emit_run(agent, tasks, **options)
    agent.shutdown()


def _publish(exports: Path, out: Path) -> PublishedRun:
    return publish_local(PublishRequest(RUN, exports, out, collect=CollectOptions(settle_seconds=0)))


def _rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def test_a_resumed_run_keeps_one_row_per_task_from_its_finished_attempt(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _attempt(
        exports,
        [Task("t1"), Task("t2", **INTERRUPTED), Task("t3", **INTERRUPTED)],
        status="interrupted",
        planned=3,
    )
    _attempt(exports, [Task("t2", steps=4), Task("t3", success=False, stop_reason="max_steps")], planned=2)

    published = _publish(exports, tmp_path / "out")

    rows = _rows(published.layout.data_file("results"))
    assert [(r["task_id"], r["stop_reason"], r["success"]) for r in rows] == [
        ("t1", "final_answer", True),
        ("t2", "final_answer", True),
        ("t3", "max_steps", False),
    ]
    assert rows[1]["steps"] == 4  # the resumed attempt, not the interrupted one
    board = published.leaderboard_row
    assert board["planned_tests"] == 3  # the largest plan of the attempts, not their sum
    assert (board["total_tests"], board["successful_tests"], board["interrupted_tests"]) == (3, 2, 0)
    assert board["run_status"] == "completed"  # the latest attempt completed and every planned task was scored
    assert board["pass_at_1"] == pytest.approx(200 / 3) == board["success_rate"]
    assert board["total_tokens"] == sum(r["total_tokens"] for r in rows) == 3 * 15
    assert "2 earlier task attempt(s) replaced by a later one (resumed run)" in board["notes"]
    assert board["timestamp"].timestamp() * 1e9 <= min(r["start_time_unix_nano"] for r in rows)
    traces = _rows(published.layout.data_file("traces"))
    assert sum(1 for t in traces if t["name"] == "smoltrace.run") == 2  # every attempt's spans stay in the traces


def test_a_task_interrupted_in_every_attempt_keeps_its_latest_attempt_and_the_run_is_partial(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _attempt(exports, [Task("t1"), Task("t2", **INTERRUPTED)], status="interrupted", planned=2)
    _attempt(exports, [Task("t2", stop_reason="interrupted", success=False, steps=3)], status="interrupted", planned=1)

    published = _publish(exports, tmp_path / "out")

    rows = _rows(published.layout.data_file("results"))
    assert [(r["task_id"], r["stop_reason"], r["steps"]) for r in rows] == [
        ("t1", "final_answer", 2),
        ("t2", "interrupted", 3),
    ]
    board = published.leaderboard_row
    assert (board["planned_tests"], board["total_tests"], board["interrupted_tests"]) == (2, 1, 1)
    assert board["run_status"] == "partial"


def test_shards_add_up_their_planned_tasks_and_a_missing_shard_makes_the_run_partial(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _attempt(exports, [Task("t1"), Task("t2")], shard="1/2")

    alone = _publish(exports, tmp_path / "one-shard").leaderboard_row
    assert (alone["planned_tests"], alone["total_tests"], alone["run_status"]) == (2, 2, "partial")

    _attempt(exports, [Task("t3", **INTERRUPTED), Task("t4")], shard="2/2", status="interrupted")
    _attempt(exports, [Task("t3")], shard="2/2", planned=1)  # shard 2 resumed

    board = _publish(exports, tmp_path / "both").leaderboard_row
    assert (board["planned_tests"], board["total_tests"], board["successful_tests"]) == (4, 4, 4)
    assert board["run_status"] == "completed"


def test_shared_sidecar_points_between_two_attempts_are_not_joined(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    sidecar = GpuEmitter(
        setup_telemetry(TelemetryConfig("gpu-sidecar", None, exports_dir=exports, traces=False)),
        [GpuDevice("GPU-shared", power_w=100.0)],
    )
    for power, tasks, status in (
        (100.0, [Task("t1"), Task("t2", **INTERRUPTED)], "interrupted"),
        (100.0, [Task("t2")], "completed"),
    ):
        agent = setup_telemetry(TelemetryConfig("smoltrace-agent", RUN, exports_dir=exports, metrics=False))
        run_span = emit_run(agent, tasks, planned=2, end_run=False)
        sidecar.sample({"GPU-shared": {"power_w": power}})  # during the attempt
        finish_run(run_span, status, len(tasks))
        agent.shutdown()
        if status == "interrupted":
            sidecar.sample({"GPU-shared": {"power_w": 999.0}})  # between the attempts: the GPU served something else
    sidecar.close()

    published = _publish(exports, tmp_path / "out")

    power = [r for r in _rows(published.layout.data_file("metrics")) if r["metric"] == "hw.power"]
    assert [r["value"] for r in power] == [100.0, 100.0]
    assert {r["source"] for r in power} == {"unassigned"}
    assert published.leaderboard_row["gpu_power_avg_w"] == pytest.approx(100.0)
    assert published.leaderboard_row["run_status"] == "completed"
