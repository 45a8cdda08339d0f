"""``publisher.staging.stage_run``: a run given as Python data, written in the local layout like a publish from exports."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from publisher.collect import CollectOptions
from publisher.gpu import aggregate_gpu_metrics
from publisher.local import PublishRequest, publish_local, read_leaderboard_row
from publisher.staging import stage_run
from smoltrace_otel import cli
from smoltrace_otel.errors import UsageError
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry
from tests.sample_run import Chat, GpuDevice, GpuEmitter, Task, emit_run

RUN = "staged-run"


def _table(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()


def _exported_run(exports: Path) -> None:
    agent = setup_telemetry(TelemetryConfig("smoltrace-agent", RUN, exports_dir=exports, metrics=False))
    run_span = emit_run(agent, [Task("t1", chats=[Chat(10, 5, 0.25)]), Task("t2", success=False)], end_run=False)
    sidecar = setup_telemetry(TelemetryConfig("gpu-sidecar", RUN, exports_dir=exports, traces=False))
    gpus = GpuEmitter(sidecar, [GpuDevice("GPU-1", power_w=100.0, energy_j=10.0, utilization=0.5)])
    gpus.sample()
    gpus.sample({"GPU-1": {"power_w": 300.0, "energy_j": 50.0, "utilization": 0.9}})
    gpus.close()
    run_span.end()
    agent.shutdown()


def test_staging_a_published_runs_tables_again_gives_the_same_files(tmp_path: Path) -> None:
    _exported_run(tmp_path / "exports")
    published = publish_local(
        PublishRequest(RUN, tmp_path / "exports", tmp_path / "out", collect=CollectOptions(settle_seconds=0))
    )
    layout = published.layout
    metric_data = json.loads(layout.raw_metrics_file().read_text())

    staged = stage_run(
        tmp_path / "again",
        all_results=_table(layout.data_file("results")),
        trace_data=_table(layout.data_file("traces")),
        metric_data=metric_data,
        model_name="gpt-4o-mini",
        run_id=RUN,
    )

    assert staged.month == layout.month
    for repo in ("results", "traces", "metrics"):
        assert pq.read_table(staged.data_file(repo)).equals(pq.read_table(layout.data_file(repo))), repo
    assert json.loads(staged.raw_metrics_file().read_text()) == metric_data
    assert read_leaderboard_row(staged) == read_leaderboard_row(layout)
    row = read_leaderboard_row(staged)
    assert (row["run_status"], row["planned_tests"], row["total_tests"], row["successful_tests"]) == (
        "completed", 2, 2, 1,
    )  # fmt: skip
    # The counter started after the run span (the sidecar came up later): counted from zero.
    assert row["energy_wh"] == pytest.approx(50 / 3600) and row["gpu_power_avg_w"] == pytest.approx(200.0)
    assert not (tmp_path / "again" / ".staging").exists()


def test_rows_in_the_briefs_shape_with_missing_columns_are_completed(tmp_path: Path) -> None:
    all_results = {
        "tool": [{"test_id": "t1", "success": True, "steps": 3, "total_tokens": 40, "not_a_column": "x"}],
        "code": [
            {"task_id": "t2", "success": False, "agent_type": "code", "start_time_unix_nano": 1_700_000_000 * 10**9}
        ],
    }

    layout = stage_run(
        tmp_path, all_results=all_results, trace_data=None, metric_data=None, model_name="smollm2", run_id=RUN
    )

    rows = _table(layout.data_file("results"))
    assert [(r["task_id"], r["agent_type"], r["success"]) for r in rows] == [
        ("t1", "tool", True),
        ("t2", "code", False),
    ]
    assert rows[0]["llm_calls"] == 0 and rows[0]["tools_used"] == [] and rows[0]["status_code"] == "unset"
    assert rows[0]["prompt"] is None and {r["run_id"] for r in rows} == {RUN}
    assert "not_a_column" not in rows[0]
    assert layout.month == "2023-11"  # from the one time given
    assert _table(layout.data_file("traces")) == [] and _table(layout.data_file("metrics")) == []
    board = read_leaderboard_row(layout)
    assert (board["model"], board["agent_type"], board["total_tests"], board["successful_tests"]) == (
        "smollm2",
        "both",
        2,
        1,
    )
    assert board["run_status"] == "completed" and board["planned_tests"] is None  # no run span among the traces
    assert board["total_tokens"] == 40 and board["hardware"] is None and board["energy_wh"] is None
    raw = json.loads(layout.raw_metrics_file().read_text())
    assert raw["run_id"] == RUN and raw["resourceMetrics"] == []


def test_without_any_time_the_month_is_the_current_one(tmp_path: Path) -> None:
    layout = stage_run(
        tmp_path, all_results=[{"task_id": "t1"}], trace_data=[], metric_data={}, model_name="m", run_id=RUN
    )
    assert layout.month == datetime.now(UTC).strftime("%Y-%m")


def test_trace_rows_given_with_python_values_and_datetimes(tmp_path: Path) -> None:
    start = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    run_span = {
        "trace_id": "ab" * 16, "span_id": "cd" * 8, "name": "smoltrace.run", "start_time": start,
        "end_time_unix_nano": 1741064767123456000 + 2 * 10**9,
        "attributes": {"smoltrace.run.planned_tasks": 3, "smoltrace.run.status": "completed", "smoltrace.run.dataset": "mine"},
    }  # fmt: skip
    layout = stage_run(
        tmp_path,
        all_results=[{"task_id": "t1", "success": True}],
        trace_data=[run_span],
        metric_data={"aggregates": [{"name": "smoltrace.energy.wh", "value": 1.5}, {"name": "mine", "value": 7}]},
        model_name="m",
        run_id=RUN,
    )

    (trace,) = _table(layout.data_file("traces"))
    assert trace["start_time_unix_nano"] == 1741064767123456000 and trace["start_time"] == start
    assert trace["duration_ms"] == pytest.approx(2000.0) and trace["kind"] == "unspecified"
    assert json.loads(trace["attributes"])["smoltrace.run.dataset"] == "mine" and trace["events"] == "[]"
    board = read_leaderboard_row(layout)
    assert (board["planned_tests"], board["run_status"], board["dataset_used"]) == (
        3,
        "partial",
        "mine",
    )  # 1 of 3 scored
    assert board["timestamp"] == start and layout.month == "2025-03"
    assert board["energy_wh"] == 1.5  # the given aggregate wins over the (unmeasured) computed one
    raw = json.loads(layout.raw_metrics_file().read_text())
    assert {"name": "mine", "value": 7} in raw["aggregates"]
    assert {"name": "smoltrace.energy.wh", "value": 1.5} in raw["aggregates"]


def test_data_that_does_not_fit_is_refused_with_the_table_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the results rows do not fit the results table's schema"):
        stage_run(
            tmp_path,
            all_results=[{"task_id": "t1", "success": "yes"}],
            trace_data=[],
            metric_data={},
            model_name="m",
            run_id=RUN,
        )
    with pytest.raises(UsageError, match="results row 0 is a str, not a dict"):
        stage_run(tmp_path, all_results=["t1"], trace_data=[], metric_data={}, model_name="m", run_id=RUN)
    with pytest.raises(UsageError, match="not OTLP JSON documents"):
        stage_run(
            tmp_path, all_results=[], trace_data=[{"resourceSpans": []}], metric_data={}, model_name="m", run_id=RUN
        )
    with pytest.raises(UsageError, match="metric_data must be a dict"):
        stage_run(tmp_path, all_results=[], trace_data=[], metric_data=[1], model_name="m", run_id=RUN)


def _sample_metric_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *flags: str) -> dict[str, Any]:
    """``metric_data`` made by ``smoltrace sample-metrics``: the GPU sidecar's own metric model and attributes."""
    monkeypatch.setattr(cli, "configure_logging", lambda *_args: None)
    path = tmp_path / "metric_data.json"
    args = ["sample-metrics", "--format", "metric-data", "--output", str(path), "--seed", "3", "--run-id", RUN, *flags]
    assert cli.main([*args, "--duration", "60", "--export-interval", "10"]) == 0
    return json.loads(path.read_text())


def test_the_hardware_label_names_the_gpu_model_of_real_sidecar_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metric_data = _sample_metric_data(tmp_path, monkeypatch, "--gpus", "2", "--gpu-model", "h100")
    attributes = {
        a["key"]: next(iter(a["value"].values()))
        for a in metric_data["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["gauge"]["dataPoints"][0][
            "attributes"
        ]
    }
    assert (attributes["hw.name"], attributes["hw.model"]) == ("gpu0", "NVIDIA H100 80GB HBM3")  # the sidecar's shape

    gpus = aggregate_gpu_metrics(metric_data["resourceMetrics"])
    assert gpus["hardware"] == "2x NVIDIA H100 80GB HBM3"
    assert [gpu["name"] for gpu in gpus["per_gpu"]] == ["NVIDIA H100 80GB HBM3"] * 2

    layout = stage_run(
        tmp_path / "out", all_results=[], trace_data=[], metric_data=metric_data, model_name="m", run_id=RUN
    )
    assert read_leaderboard_row(layout)["hardware"] == "2x NVIDIA H100 80GB HBM3"
    assert {r["gpu_name"] for r in _table(layout.data_file("metrics"))} == {"NVIDIA H100 80GB HBM3"}


def test_metric_rows_come_from_the_resource_metrics_as_the_export_reader_decodes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metric_data = _sample_metric_data(tmp_path, monkeypatch, "--naming", "genai", "--gpu-model", "a10g")
    exports = tmp_path / "exports" / RUN
    exports.mkdir(parents=True)
    (exports / "metrics.jsonl").write_text(json.dumps({"resourceMetrics": metric_data["resourceMetrics"]}) + "\n")
    os.utime(exports / "metrics.jsonl", (0, 0))

    staged = stage_run(
        tmp_path / "staged", all_results=[], trace_data=[], metric_data=metric_data, model_name="m", run_id=RUN
    )
    read = publish_local(PublishRequest(RUN, tmp_path / "exports", tmp_path / "read", collect=CollectOptions(0, True)))

    assert pq.read_table(staged.data_file("metrics")).equals(pq.read_table(read.layout.data_file("metrics")))
    rows = _table(staged.data_file("metrics"))
    assert {r["metric"] for r in rows} >= {"gen_ai.gpu.utilization", "gen_ai.gpu.memory.used", "gen_ai.gpu.power"}
    assert {r["gpu_name"] for r in rows} == {"NVIDIA A10G"}
    assert read_leaderboard_row(staged)["hardware"] == "1x NVIDIA A10G"
