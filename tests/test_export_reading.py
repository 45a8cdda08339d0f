"""Reading a run's export directory: torn and broken lines, duplicates, rotated files, untouched inputs."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gpu_sidecar import semconv as sc
from publisher.collect import CollectOptions
from publisher.dedup import SpanDeduplicator
from publisher.exports import ReadStats, export_files, read_documents
from publisher.local import PublishRequest, publish_local
from smoltrace_otel import attributes as A
from tests import otlp_lines as L

RUN = "run-read-1"
AGENT = L.resource(service_name="smoltrace-agent", host_name="box-1", run_id=RUN)
SIDECAR = L.resource(service_name="gpu-sidecar", host_name="box-1", run_id=RUN)
TRACE = "0af7651916cd43dd8448eb211c80319c"


def _task_lines(trace_id: str = TRACE, task_id: str = "t1", tokens: tuple[int, int] = (100, 20)) -> list[str]:
    root = L.span(
        trace_id,
        "b7ad6b7169203331",
        "invoke_agent smoltrace-tool-agent",
        L.T0,
        L.T0 + 5 * L.SECOND,
        attributes={A.TASK_ID: task_id, A.SCORE_SUCCESS: True, A.TASK_STEPS: 1, A.TASK_STOP_REASON: "final_answer"},
    )
    chat = L.span(
        trace_id,
        "00f067aa0ba902b7",
        "chat gpt-4o-mini",
        L.T0 + L.SECOND,
        L.T0 + 2 * L.SECOND,
        parent="b7ad6b7169203331",
        attributes={
            A.GEN_AI_OPERATION_NAME: "chat",
            A.GEN_AI_USAGE_INPUT_TOKENS: tokens[0],
            A.GEN_AI_USAGE_OUTPUT_TOKENS: tokens[1],
        },
    )
    run = L.span(
        "1" * 32,
        "2" * 16,
        A.RUN_SPAN_NAME,
        L.T0 - L.SECOND,
        L.T0 + 10 * L.SECOND,
        attributes={A.RUN_STATUS: "completed"},
    )
    return [L.spans_line(AGENT, [chat]), L.spans_line(AGENT, [root, run])]


def _publish(exports: Path, out: Path) -> object:
    return publish_local(PublishRequest(RUN, exports, out, collect=CollectOptions(settle_seconds=0)))


def _old(path: Path) -> None:
    """Make a file look written a minute ago (a finished run)."""
    stamp = path.stat().st_mtime - 60
    os.utime(path, (stamp, stamp))


def test_torn_last_line_is_counted_and_skipped_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = L.write(tmp_path / RUN / "traces.jsonl", _task_lines())
    with path.open("a") as handle:
        handle.write('{"resourceSpans":[{"resource":{"attr')  # the Collector is mid-write
    stats = ReadStats()
    with caplog.at_level(logging.WARNING):
        documents = list(read_documents([path], stats))
    assert len(documents) == 2
    assert stats.torn_lines == 1 and stats.torn_files == [str(path)]
    assert stats.unparsable_lines == 0
    assert "still being written or torn" in caplog.text

    _old(path)
    published = _publish(tmp_path, tmp_path / "out")
    assert published.read.torn_lines == 1
    assert published.results_rows == 1
    assert "1 torn line(s) skipped" in published.leaderboard_row["notes"]


def test_unparsable_lines_are_counted_logged_and_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lines = _task_lines()
    path = L.write(
        tmp_path / RUN / "traces.jsonl",
        [lines[0], "{not json}\n", "\n", '["an", "array"]\n', '{"other": 1}\n', lines[1]],
    )
    _old(path)
    with caplog.at_level(logging.WARNING):
        published = _publish(tmp_path, tmp_path / "out")
    assert published.read.unparsable_lines == 2
    assert published.read.unknown_lines == 1
    assert published.results_rows == 1
    assert f"{path}: line 2 skipped: not JSON" in caplog.text
    assert "line 4 skipped: not OTLP JSON" in caplog.text


def test_duplicated_lines_count_spans_and_points_once(tmp_path: Path) -> None:
    gpu = L.gpu_attributes("GPU-1")
    metrics = L.metrics_line(
        SIDECAR,
        [L.metric(sc.HW_GPU_UTILIZATION, [L.point(L.T0 + L.SECOND, 0.5, gpu), L.point(L.T0 + 2 * L.SECOND, 0.7, gpu)])],
    )
    lines = _task_lines()
    # A retried export: the same requests written twice, not next to each other.
    L.write(tmp_path / RUN / "traces.jsonl", [lines[0], lines[0], lines[1], lines[0]])
    L.write(tmp_path / RUN / "metrics.jsonl", [metrics, metrics])
    for path in export_files(tmp_path / RUN):
        _old(path)
    published = _publish(tmp_path, tmp_path / "out")
    assert published.duplicate_spans == 2
    assert published.trace_rows == 3
    (row,) = pq.read_table(published.layout.data_file("results")).to_pylist()
    assert (row["prompt_tokens"], row["completion_tokens"], row["total_tokens"], row["llm_calls"]) == (100, 20, 120, 1)
    assert published.metric_rows == 2
    assert published.leaderboard_row["gpu_utilization_avg"] == pytest.approx(60.0)
    assert "2 duplicate GPU point(s) dropped" in published.leaderboard_row["notes"]


def test_same_span_id_in_two_traces_is_not_a_duplicate() -> None:
    dedup = SpanDeduplicator()
    assert dedup.first_time("a" * 32, "1" * 16)
    assert dedup.first_time("b" * 32, "1" * 16)
    assert not dedup.first_time("a" * 32, "1" * 16)
    assert dedup.first_time(None, None) and dedup.first_time(None, None)
    assert (dedup.duplicates, dedup.without_ids) == (1, 2)


def test_duplicates_are_found_within_the_window_and_memory_stays_bounded() -> None:
    dedup = SpanDeduplicator(generation=4)
    ids = [(f"{n:032x}", f"{n:016x}") for n in range(1, 11)]
    for trace_id, span_id in ids:
        assert dedup.first_time(trace_id, span_id)
    assert not dedup.first_time(*ids[-1])  # recent: found
    assert not dedup.first_time(*ids[-4])
    assert dedup.first_time(*ids[0])  # older than two generations: forgotten, by design
    assert len(dedup._current) + len(dedup._previous) <= 8


def test_rotated_backups_and_embedded_files_are_all_read_and_left_untouched(tmp_path: Path) -> None:
    lines = _task_lines()
    run_dir = tmp_path / RUN
    L.write(run_dir / "traces-2025-10-09T08-00-00.000.jsonl", [lines[0]])  # a rotated backup
    L.write(run_dir / "traces-smoltrace-agent-box-1-4242.jsonl", [lines[1]])  # embedded mode's name
    L.write(run_dir / "notes.txt", ["not an export\n"])
    for path in export_files(run_dir):
        _old(path)
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in run_dir.iterdir()}
    published = _publish(tmp_path, tmp_path / "out")
    assert published.read.files == 2
    assert published.results_rows == 1 and published.trace_rows == 3
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in run_dir.iterdir()}
    assert after == before


def test_metric_rows_keep_reported_values_and_add_canonical_ones(tmp_path: Path) -> None:
    gpu = L.gpu_attributes("GPU-1")
    line = L.metrics_line(
        SIDECAR,
        [
            L.metric(
                sc.HW_GPU_UTILIZATION, [L.point(L.T0 + L.SECOND, 0.25, gpu), L.point(L.T0 + 2 * L.SECOND, "NaN", gpu)]
            ),
            L.metric(sc.HW_GPU_MEMORY_USAGE, [L.point(L.T0 + L.SECOND, 3 * 2**20, gpu)]),
        ],
    )
    L.write(tmp_path / RUN / "traces.jsonl", _task_lines())
    L.write(tmp_path / RUN / "metrics.jsonl", [line])
    for path in export_files(tmp_path / RUN):
        _old(path)
    rows = pq.read_table(_publish(tmp_path, tmp_path / "out").layout.data_file("metrics")).to_pylist()
    by_key = {(r["metric"], r["time_unix_nano"]): r for r in rows}
    util = by_key[("hw.gpu.utilization", L.T0 + L.SECOND)]
    assert (util["value"], util["unit"], util["canonical_value"], util["canonical_unit"]) == (0.25, "1", 25.0, "%")
    assert util["quantity"] == "utilization" and util["kind"] == "gauge" and util["temporality"] is None
    assert util["gpu_id"] == "GPU-1" and util["gpu_name"] == "NVIDIA A10G" and util["host_name"] == "box-1"
    assert util["timestamp"].timestamp() == pytest.approx((L.T0 + L.SECOND) / 1e9)
    nan = by_key[("hw.gpu.utilization", L.T0 + 2 * L.SECOND)]
    assert nan["value"] is None and nan["canonical_value"] is None
    memory = by_key[("hw.gpu.memory.usage", L.T0 + L.SECOND)]
    assert (memory["value"], memory["canonical_value"], memory["canonical_unit"]) == (3 * 2**20, 3.0, "MiB")
    assert memory["temporality"] == "cumulative"
