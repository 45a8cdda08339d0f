"""GPU data from a shared sidecar (no run id, in unassigned/) is joined to a run by host and time window."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gpu_sidecar import semconv as sc
from publisher.collect import CollectOptions
from publisher.local import PublishRequest, publish_local
from smoltrace_otel import attributes as A
from tests import otlp_lines as L

RUN = "run-join"
S = L.SECOND
START, END = L.T0 + 100 * S, L.T0 + 200 * S


def _run(exports: Path, host: str = "box-1") -> None:
    res = L.resource(service_name="smoltrace-agent", host_name=host, run_id=RUN)
    root = L.span(
        "a" * 32,
        "b" * 16,
        "invoke_agent agent",
        START + S,
        END - S,
        attributes={A.TASK_ID: "t1", A.SCORE_SUCCESS: True},
    )
    run = L.span("c" * 32, "d" * 16, A.RUN_SPAN_NAME, START, END, attributes={A.RUN_STATUS: "completed"})
    L.write(exports / RUN / "traces.jsonl", [L.spans_line(res, [root, run])])


def _shared_sidecar(exports: Path, host: str, uuid: str, times: list[int], power: float = 100.0) -> None:
    res = L.resource(service_name="gpu-sidecar", host_name=host, run_id="unassigned")  # as the Collector inserts it
    gpu = L.gpu_attributes(uuid)
    points = [L.point(t, power, gpu) for t in times]
    energy = [L.point(t, float((t - L.T0) // S), gpu, start_ns=L.T0) for t in times]  # 1 J per second since T0
    L.write(
        exports / "unassigned" / "metrics.jsonl",
        [L.metrics_line(res, [L.metric(sc.HW_POWER, points), L.metric(sc.HW_ENERGY, energy)])],
    )


def _age_all(exports: Path) -> None:
    for path in exports.rglob("*.jsonl"):
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 30))


def _publish(exports: Path, out: Path) -> object:
    return publish_local(PublishRequest(RUN, exports, out, collect=CollectOptions(settle_seconds=0)))


def test_points_of_the_runs_host_inside_the_window_are_joined_and_tagged(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _run(exports)
    times = [START - 20 * S, START + 10 * S, START + 50 * S, END - 10 * S, END + 30 * S]
    _shared_sidecar(exports, "box-1", "GPU-shared", times)
    _shared_sidecar(exports, "box-2", "GPU-elsewhere", [START + 10 * S, START + 50 * S], power=999.0)  # another machine
    _age_all(exports)
    published = _publish(exports, tmp_path / "out")

    assert published.joined_points == 2 * 3  # power and energy, three instants inside the window, box-1 only
    rows = pq.read_table(published.layout.data_file("metrics")).to_pylist()
    assert {r["gpu_id"] for r in rows} == {"GPU-shared"}
    assert {r["source"] for r in rows} == {"unassigned"} and {r["run_id"] for r in rows} == {RUN}
    assert min(r["time_unix_nano"] for r in rows) >= START and max(r["time_unix_nano"] for r in rows) <= END
    board = published.leaderboard_row
    assert board["gpu_power_avg_w"] == pytest.approx(100.0)
    # The counter started long before the run: energy = last - first sample inside the window,
    # from START + 10 s to END - 10 s = 80 s at 1 J/s.
    assert board["energy_wh"] == pytest.approx(80 / 3600)
    assert board["energy_source"] == "hw.energy"
    assert "6 GPU point(s) joined from unassigned/" in board["notes"]
    raw = json.loads(published.layout.raw_metrics_file().read_text())
    run_ids = {
        a["value"]["stringValue"]
        for e in raw["resourceMetrics"]
        for a in e["resource"]["attributes"]
        if a["key"] == "run.id"
    }
    assert run_ids == {RUN}


def test_host_with_its_own_run_tagged_gpu_data_is_not_joined(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _run(exports)
    own = L.resource(service_name="gpu-sidecar", host_name="box-1", run_id=RUN)
    L.write(
        exports / RUN / "metrics.jsonl",
        [L.metrics_line(own, [L.metric(sc.HW_POWER, [L.point(START + S, 50.0, L.gpu_attributes("GPU-own"))])])],
    )
    _shared_sidecar(exports, "box-1", "GPU-shared", [START + 10 * S])
    _age_all(exports)
    published = _publish(exports, tmp_path / "out")
    assert published.joined_points == 0
    assert {r["gpu_id"] for r in pq.read_table(published.layout.data_file("metrics")).to_pylist()} == {"GPU-own"}


def test_unassigned_files_last_written_before_the_run_are_not_read(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _run(exports)
    _shared_sidecar(exports, "box-1", "GPU-shared", [START + 10 * S])
    path = exports / "unassigned" / "metrics.jsonl"
    before_run = (START - 3600 * S) / 1e9  # an hour before: well past the clock-granularity margin
    os.utime(path, (before_run, before_run))
    _age_all(exports / RUN)
    assert _publish(exports, tmp_path / "out").joined_points == 0
