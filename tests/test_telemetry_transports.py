"""Both transports (embedded JSON Lines and OTLP/gRPC into a Collector) produce the same data."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from smoltrace_otel.telemetry import Telemetry, TelemetryConfig, setup_telemetry
from tests.conftest import FIXTURES, PYTHON, subprocess_env
from tests.doubles.collector import CollectorDouble
from tests.otlp_shapes import points, read_lines, shape, spans

RUN_ID = "run-transport-1"


def _emit(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer("test.emitter")
    with tracer.start_as_current_span("work") as span:
        span.set_attribute("task.n", 3)
        span.set_attribute("ok", True)
        span.add_event("checkpoint", {"step": 1})
        with tracer.start_as_current_span("child"):
            pass
    gauge = telemetry.meter("test.emitter").create_gauge("test.gauge", unit="1")
    gauge.set(0.5, {"gpu": "0"})
    telemetry.shutdown()


def _comparable(lines: list[dict]) -> tuple[list, list]:
    span_view = sorted(
        (s["name"], s["kind"], s["scope"], json.dumps(s["attributes"], sort_keys=True), str(s["events"]))
        for s in spans(lines)
    )
    point_view = sorted(
        (p["name"], p["unit"], p["kind"], p["value"], json.dumps(p["attributes"], sort_keys=True))
        for p in points(lines)
    )
    return span_view, point_view


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def test_same_span_and_gauge_through_embedded_and_collector(tmp_path: Path, collector: CollectorDouble) -> None:
    embedded = setup_telemetry(TelemetryConfig("emitter", RUN_ID, exports_dir=tmp_path / "embedded"))
    assert embedded.mode == "embedded"
    _emit(embedded)
    via_grpc = setup_telemetry(TelemetryConfig("emitter", RUN_ID, otlp_endpoint=collector.endpoint))
    assert via_grpc.mode == "otlp"
    _emit(via_grpc)

    embedded_lines = [line for f in _files(tmp_path / "embedded" / RUN_ID) for line in read_lines(f)]
    collector_lines = [line for f in _files(collector.out_dir / RUN_ID) for line in read_lines(f)]
    assert [p.name for p in _files(collector.out_dir / RUN_ID)] == ["metrics.jsonl", "traces.jsonl"]

    assert _comparable(embedded_lines) == _comparable(collector_lines)
    assert _comparable(embedded_lines)[0][0][0] == "child"
    for lines in (embedded_lines, collector_lines):
        for s in spans(lines):
            assert s["resource"]["run.id"] == RUN_ID
            assert s["resource"]["service.name"] == "emitter"
            assert re.fullmatch(r"[0-9a-f]{32}", s["traceId"])
            assert re.fullmatch(r"[0-9a-f]{16}", s["spanId"])
        assert {p["resource"]["run.id"] for p in points(lines)} == {RUN_ID}

    child = next(s for s in spans(collector_lines) if s["name"] == "child")
    parent = next(s for s in spans(collector_lines) if s["name"] == "work")
    assert child["parentSpanId"] == parent["spanId"]


def test_collector_and_embedded_lines_have_the_fixture_form(tmp_path: Path, collector: CollectorDouble) -> None:
    """Compact JSON Lines, one request per line, same keys and JSON types in both transports."""
    for telemetry in (
        setup_telemetry(TelemetryConfig("emitter", RUN_ID, exports_dir=tmp_path / "embedded")),
        setup_telemetry(TelemetryConfig("emitter", RUN_ID, otlp_endpoint=collector.endpoint)),
    ):
        _emit(telemetry)
    embedded = {p.name.split("-")[0]: p for p in _files(tmp_path / "embedded" / RUN_ID)}
    produced = {"embedded": embedded, "collector": {p.stem: p for p in _files(collector.out_dir / RUN_ID)}}
    shapes: dict[str, dict[str, set]] = {}
    for origin, by_signal in produced.items():
        for signal_name, path in by_signal.items():
            raw = path.read_text(encoding="utf-8")
            assert raw.endswith("\n")
            for line in raw.splitlines():
                assert line == json.dumps(json.loads(line), separators=(",", ":")), f"{origin} line is not compact"
            shapes.setdefault(signal_name, {})[origin] = set().union(*(shape(d) for d in read_lines(path)))
    for signal_name in ("traces", "metrics"):
        assert shapes[signal_name]["embedded"] == shapes[signal_name]["collector"], signal_name

    # The Collector's own file exporter lines (spec fixtures) are compact lines of the same form:
    # 64-bit integers as strings, enums as integers.
    fixture = read_lines(FIXTURES / "spec-file-exporter-traces.jsonl")
    fixture_shape = set().union(*(shape(d) for d in fixture))
    for key in (
        ".resourceSpans[].scopeSpans[].spans[].startTimeUnixNano",
        ".resourceSpans[].scopeSpans[].spans[].name",
    ):
        assert (key, "str") in fixture_shape
        assert (key, "str") in shapes["traces"]["collector"]
    assert (".resourceSpans[].scopeSpans[].spans[].status.code", "number") in fixture_shape
    assert (".resourceSpans[].scopeSpans[].spans[].kind", "number") in shapes["traces"]["collector"]
    metric_fixture = set().union(*(shape(d) for d in read_lines(FIXTURES / "spec-file-exporter-metrics.jsonl")))
    assert (
        ".resourceMetrics[].scopeMetrics[].metrics[].sum.aggregationTemporality",
        "number",
    ) in metric_fixture


def test_resources_without_run_id_go_to_unassigned(tmp_path: Path, collector: CollectorDouble) -> None:
    telemetry = setup_telemetry(TelemetryConfig("shared-sidecar", None, otlp_endpoint=collector.endpoint))
    _emit(telemetry)
    assert not (collector.out_dir / RUN_ID).exists()
    lines = read_lines(collector.out_dir / "unassigned" / "metrics.jsonl")
    assert {p["resource"]["run.id"] for p in points(lines)} == {"unassigned"}

    embedded = setup_telemetry(TelemetryConfig("shared-sidecar", None, exports_dir=tmp_path / "emb"))
    _emit(embedded)
    files = _files(tmp_path / "emb" / "unassigned")
    assert files
    assert all("run.id" not in p["resource"] for f in files for p in points(read_lines(f)))


def test_otlp_endpoint_from_environment_selects_collector_mode(
    tmp_path: Path, collector: CollectorDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci,team=evals")
    telemetry = setup_telemetry(TelemetryConfig("emitter", RUN_ID, exports_dir=tmp_path / "unused"))
    assert telemetry.mode == "otlp"
    _emit(telemetry)
    assert not (tmp_path / "unused").exists()
    resource = spans(read_lines(collector.out_dir / RUN_ID / "traces.jsonl"))[0]["resource"]
    assert resource["service.name"] == "from-env"
    assert resource["team"] == "evals"
    assert resource["run.id"] == RUN_ID


def test_run_id_from_resource_attributes_is_used_when_no_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "run.id=from-env-7")
    telemetry = setup_telemetry(TelemetryConfig("app", None, exports_dir=tmp_path))
    assert telemetry.run_id == "from-env-7"
    _emit(telemetry)
    assert _files(tmp_path / "from-env-7")


def test_unreachable_collector_is_counted_not_fatal(tmp_path: Path) -> None:
    stopped = CollectorDouble(tmp_path / "down").start()
    endpoint = stopped.endpoint
    stopped.stop(0)
    telemetry = setup_telemetry(TelemetryConfig("emitter", RUN_ID, otlp_endpoint=endpoint, export_timeout_s=0.5))
    _emit(telemetry)
    assert telemetry.delivery.spans_failed == 2
    assert telemetry.delivery.spans_exported == 0


EMITTER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from smoltrace_otel.signals import sigterm_raises
    from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry

    telemetry = setup_telemetry(TelemetryConfig("sig", "run-sig", exports_dir=Path(sys.argv[1])))
    tracer = telemetry.tracer("sig")
    try:
        with sigterm_raises():
            with tracer.start_as_current_span("before-signal"):
                pass
            print("ready", flush=True)
            time.sleep(60)
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        telemetry.shutdown()
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_flushes_buffered_spans(tmp_path: Path, signum: int) -> None:
    proc = subprocess.Popen(
        [PYTHON, "-c", EMITTER_SCRIPT, str(tmp_path)],
        stdout=subprocess.PIPE,
        env=subprocess_env(),
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    proc.send_signal(signum)
    assert proc.wait(timeout=20) == 130
    files = _files(tmp_path / "run-sig")
    names = [s["name"] for f in files for s in spans(read_lines(f))]
    assert names == ["before-signal"]
