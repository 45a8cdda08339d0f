"""The brief's four metric tests, adapted to OpenTelemetry exports read by the publisher.

1. the exporter output format: what our telemetry writes (embedded files or the
   Collector) is OTLP JSON Lines the publisher reads without loss;
2. run-id setup: the run id given to the telemetry reaches every published row and file;
3. the extracted ``metric_data`` format: ``{"run_id", "resourceMetrics", "aggregates"}``
   exactly as the brief has it, on disk as in memory;
4. GPU aggregation: two GPUs with different loads give the right averages and maxima.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gpu_sidecar import semconv as sc
from publisher.collect import CollectOptions
from publisher.exports import ReadStats, export_files, read_documents
from publisher.gpu import aggregate_gpu_metrics
from publisher.gpu_series import GpuSeriesStore
from publisher.local import PublishRequest, publish_local
from publisher.otlp_json import iter_spans
from smoltrace_otel.telemetry import Telemetry, TelemetryConfig, setup_telemetry
from tests.doubles.collector import CollectorDouble
from tests.sample_run import Chat, GpuDevice, GpuEmitter, Task, emit_run, finish_run

RUN_ID = "eval-2025-10-run1"
GIB = 2**30


def _telemetry(service: str, run_id: str | None, exports: Path, endpoint: str | None = None, **kw: object) -> Telemetry:
    return setup_telemetry(
        TelemetryConfig(
            service, run_id, otlp_endpoint=endpoint, exports_dir=exports, metric_export_interval_s=3600, **kw
        )
    )


def _two_gpus(telemetry: Telemetry, naming: sc.Naming = "semconv") -> None:
    emitter = GpuEmitter(
        telemetry, [GpuDevice("GPU-aaaa", index=0), GpuDevice("GPU-bbbb", name="NVIDIA L4", index=1)], naming
    )
    readings = [
        {"GPU-aaaa": (0.9, 10, 200.0, 60.0), "GPU-bbbb": (0.1, 2, 50.0, 40.0)},
        {"GPU-aaaa": (0.7, 12, 300.0, 70.0), "GPU-bbbb": (0.3, 4, 70.0, 50.0)},
    ]
    for sample in readings:
        emitter.sample(
            {
                uuid: {"utilization": u, "memory_bytes": mem * GIB, "power_w": p, "temperature_c": t}
                for uuid, (u, mem, p, t) in sample.items()
            }
        )
    emitter.close()


def _emit_everything(exports: Path, endpoint: str | None = None) -> None:
    agent = _telemetry("smoltrace-agent", RUN_ID, exports, endpoint, metrics=False)
    emit_run(agent, [Task("t1", chats=[Chat(100, 20, 0.002), Chat(50, 10, 0.001)]), Task("t2", success=False)])
    agent.shutdown()
    _two_gpus(_telemetry("gpu-sidecar", RUN_ID, exports, endpoint, traces=False))


def _publish(exports: Path, out: Path, run_id: str = RUN_ID) -> object:
    return publish_local(PublishRequest(run_id, exports, out, collect=CollectOptions(settle_seconds=0)))


def _read(run_dir: Path) -> tuple[list, GpuSeriesStore, ReadStats]:
    stats, store, spans = ReadStats(), GpuSeriesStore(), []
    for signal, document in read_documents(export_files(run_dir), stats):
        if signal == "spans":
            spans.extend(iter_spans(document))
        elif signal == "metrics":
            store.add_document(document, "run")
    return spans, store, stats


def test_exporter_output_format_is_read_the_same_from_files_and_collector(
    tmp_path: Path, collector: CollectorDouble
) -> None:
    _emit_everything(tmp_path / "embedded")
    _emit_everything(tmp_path / "unused", endpoint=collector.endpoint)
    embedded = _read(tmp_path / "embedded" / RUN_ID)
    collected = _read(collector.out_dir / RUN_ID)
    assert [p.name for p in export_files(collector.out_dir / RUN_ID)] == ["metrics.jsonl", "traces.jsonl"]
    assert all(
        name.startswith(("traces-", "metrics-"))
        for name in (p.name for p in export_files(tmp_path / "embedded" / RUN_ID))
    )

    for spans, store, stats in (embedded, collected):
        assert stats.unparsable_lines == stats.torn_lines == stats.unknown_lines == 0
        assert sorted(s.name for s in spans) == sorted(
            ["smoltrace.run"]
            + ["invoke_agent smoltrace-tool-agent"] * 2
            + ["chat gpt-4o-mini"] * 3
            + ["execute_tool calculator"] * 2
        )
        for span in spans:
            assert re.fullmatch(r"[0-9a-f]{32}", span.trace_id)
            assert re.fullmatch(r"[0-9a-f]{16}", span.span_id)
            assert span.resource.attributes["run.id"] == RUN_ID
            assert span.end_time_unix_nano >= span.start_time_unix_nano > 0
        chats = [s for s in spans if s.name.startswith("chat ")]
        assert sorted(s.attributes["gen_ai.usage.input_tokens"] for s in chats) == [10, 50, 100]
        assert {s.kind_name for s in chats} == {"client"}
        assert {(st.name, st.unit, st.gpu_id) for st in store.streams()} == {
            (spec.name, spec.unit, gpu)
            for spec in (
                sc.HW_GPU_UTILIZATION,
                sc.HW_GPU_MEMORY_USAGE,
                sc.HW_GPU_MEMORY_LIMIT,
                sc.HW_POWER,
                sc.HW_ENERGY,
                sc.HW_TEMPERATURE,
            )
            for gpu in ("GPU-aaaa", "GPU-bbbb")
        }

    def comparable(read: tuple) -> tuple:
        spans, store, _ = read
        span_view = sorted((s.name, s.kind, json.dumps(s.attributes, sort_keys=True)) for s in spans)
        point_view = sorted((st.name, st.gpu_id, tuple(st.values)) for st in store.streams())
        return span_view, point_view

    assert comparable(embedded) == comparable(collected)


def test_run_id_reaches_every_published_row_and_file(tmp_path: Path, collector: CollectorDouble) -> None:
    agent = _telemetry("smoltrace-agent", RUN_ID, tmp_path, collector.endpoint, metrics=False)
    run_span = emit_run(agent, [Task("t1"), Task("t2")], end_run=False)
    # A shared sidecar started without a run id, sampling while the run goes on: its data lands
    # in unassigned/ and is joined to the run by host and time window.
    _two_gpus(_telemetry("gpu-sidecar", None, tmp_path, collector.endpoint, traces=False))
    finish_run(run_span, completed=2)
    agent.shutdown()
    assert (collector.out_dir / "unassigned" / "metrics.jsonl").exists()
    assert not (collector.out_dir / RUN_ID / "metrics.jsonl").exists()

    published = _publish(collector.out_dir, tmp_path / "out")
    layout = published.layout
    for repo in ("results", "traces", "metrics", "leaderboard"):
        path = layout.data_file(repo)
        assert path.name == f"{RUN_ID}.parquet"
        assert set(pq.read_table(path, columns=["run_id"]).column("run_id").to_pylist()) == {RUN_ID}, repo
    metrics = pq.read_table(layout.data_file("metrics")).to_pylist()
    assert metrics and {m["source"] for m in metrics} == {"unassigned"}
    raw = json.loads(layout.raw_metrics_file().read_text())
    assert raw["run_id"] == RUN_ID
    for entry in raw["resourceMetrics"]:
        attributes = {a["key"]: a["value"] for a in entry["resource"]["attributes"]}
        assert attributes["run.id"] == {"stringValue": RUN_ID}
    assert published.leaderboard_row["run_id"] == RUN_ID


def test_extracted_metric_data_has_the_briefs_format(tmp_path: Path) -> None:
    _emit_everything(tmp_path / "exports")
    published = _publish(tmp_path / "exports", tmp_path / "out")
    metric_data = json.loads(published.layout.raw_metrics_file().read_text())

    assert list(metric_data) == ["run_id", "resourceMetrics", "aggregates"]
    assert metric_data["run_id"] == RUN_ID
    assert all(set(a) == {"name", "value"} for a in metric_data["aggregates"])
    aggregates = {a["name"]: a["value"] for a in metric_data["aggregates"]}
    assert aggregates["llm.token_count.total"] == (100 + 20 + 50 + 10) + (10 + 5)
    assert aggregates["llm.token_count.prompt"] == 160
    assert aggregates["smoltrace.tasks.total"] == 2
    assert aggregates["smoltrace.tasks.successful"] == 1
    assert aggregates["gen_ai.co2.emissions"] == pytest.approx(
        aggregates["smoltrace.energy.wh"] / 1000 * aggregates["smoltrace.co2.grid_intensity_g_per_kwh"]
    )

    names = set()
    for entry in metric_data["resourceMetrics"]:
        assert set(entry) == {"resource", "scopeMetrics"}
        (scope_metrics,) = entry["scopeMetrics"]
        assert scope_metrics["scope"]["name"] == "gpu_sidecar"
        for metric in scope_metrics["metrics"]:
            names.add(metric["name"])
            kind = "gauge" if "gauge" in metric else "sum"
            if kind == "sum":
                assert metric["sum"]["aggregationTemporality"] == 2
            for data_point in metric[kind]["dataPoints"]:
                assert isinstance(data_point["timeUnixNano"], str) and int(data_point["timeUnixNano"]) > 0
                assert ("asInt" in data_point) != ("asDouble" in data_point)
                assert {a["key"] for a in data_point["attributes"]} >= {"hw.id", "hw.name"}
    assert names == {
        "hw.gpu.utilization",
        "hw.gpu.memory.usage",
        "hw.gpu.memory.limit",
        "hw.power",
        "hw.energy",
        "hw.temperature",
    }

    # The file is plain OTLP JSON: the brief's aggregate_gpu_metrics reads it back to the leaderboard's figures.
    again = aggregate_gpu_metrics(metric_data["resourceMetrics"])
    row = published.leaderboard_row
    assert again["utilization_avg"] == pytest.approx(row["gpu_utilization_avg"])
    assert again["memory_max"] == pytest.approx(row["gpu_memory_max_mib"])
    assert again["power_avg"] == pytest.approx(row["gpu_power_avg_w"])


@pytest.mark.parametrize("naming", ["semconv", "genai"])
def test_gpu_aggregation_of_two_gpus_with_different_loads(tmp_path: Path, naming: sc.Naming) -> None:
    _two_gpus(_telemetry("gpu-sidecar", RUN_ID, tmp_path, traces=False), naming)
    resource_metrics = [
        rm
        for path in export_files(tmp_path / RUN_ID)
        for line in path.read_text().splitlines()
        for rm in json.loads(line)["resourceMetrics"]
    ]
    figures = aggregate_gpu_metrics(resource_metrics)

    assert figures["gpu_count"] == 2
    assert figures["utilization_avg"] == pytest.approx((80 + 20) / 2)  # mean over GPUs of each GPU's mean, in %
    assert figures["utilization_max"] == pytest.approx(90)
    assert figures["memory_avg"] == pytest.approx(((10 + 2) + (12 + 4)) / 2 * 1024)  # MiB summed per instant
    assert figures["memory_max"] == pytest.approx((12 + 4) * 1024)
    assert figures["memory_total"] == pytest.approx(2 * 24 * 1024)
    assert figures["power_avg"] == pytest.approx(((200 + 50) + (300 + 70)) / 2)  # W summed per instant
    assert figures["power_max"] == pytest.approx(370)
    assert figures["temperature_avg"] == pytest.approx((65 + 45) / 2)
    assert figures["temperature_max"] == pytest.approx(70)
    assert figures["hardware"] == "1x NVIDIA A10G + 1x NVIDIA L4"
    assert figures["units"]["utilization"] == "%" and figures["units"]["memory"] == "MiB"
    by_gpu = {g["name"]: g for g in figures["per_gpu"]}
    assert by_gpu["NVIDIA A10G"]["utilization_avg"] == pytest.approx(80)
    assert by_gpu["NVIDIA L4"]["utilization_max"] == pytest.approx(30)
    assert by_gpu["NVIDIA L4"]["memory_max"] == pytest.approx(4 * 1024)
    assert by_gpu["NVIDIA A10G"]["power_avg"] == pytest.approx(250)
    assert by_gpu["NVIDIA A10G"]["samples"] == 2
    if naming == "genai":
        assert figures["energy_j"] is not None and figures["energy_source"] == "gen_ai.gpu.power (integrated)"
