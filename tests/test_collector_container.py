"""The real Collector image with collector-config/config.yaml (testcontainers; skipped without Docker).

Round 1: our telemetry wiring exports spans and metrics (with and without a run id) to the pinned
otelcol-contrib image; the container is stopped gracefully; its files must sit where the publisher reads
them and carry the same data as the Collector double that the other tests use writes for the same input.
Round 2 (after the agent, sidecar and publisher branches are merged) adds the agent against the chat
server double and the sidecar with the fake NVML, then compares the publisher's results and leaderboard
row with embedded mode.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from smoltrace_otel.runid import RUN_ID_ATTRIBUTE, UNASSIGNED
from smoltrace_otel.telemetry import Telemetry, TelemetryConfig, setup_telemetry
from smoltrace_otel.waitfor import wait_http
from tests.deploy_files import COLLECTOR_CONFIGS, CONTRIB_RELEASE, load_yaml
from tests.doubles.collector import CollectorDouble
from tests.otlp_shapes import points, read_lines, spans

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RUN_ID = "run-container-1"
CONFIG_IN_IMAGE = "/etc/otelcol-contrib/config.yaml"


def _docker_or_skip() -> None:
    try:
        import docker

        docker.from_env().ping()
    except Exception as error:  # any failure means: no engine we can use here
        pytest.skip(f"no Docker engine answers ({type(error).__name__}: {error}); the static checks still ran")


@pytest.fixture
def real_collector(tmp_path: Path) -> Iterator[tuple[str, Path, object]]:
    """The pinned otelcol-contrib image with our config, as the host user, writing to tmp_path/exports."""
    _docker_or_skip()
    from testcontainers.core.container import DockerContainer

    exports = tmp_path / "exports"
    exports.mkdir()
    image = load_yaml(CONTRIB_RELEASE)["image"]
    container = (
        DockerContainer(image)
        .with_command(f"--config={CONFIG_IN_IMAGE}")
        .with_volume_mapping(str(COLLECTOR_CONFIGS["config"]), CONFIG_IN_IMAGE, "ro")
        .with_volume_mapping(str(exports), "/exports", "rw")
        .with_exposed_ports(4317, 13133)
        .with_kwargs(user=f"{os.getuid()}:{os.getgid()}")
    )
    container.start()
    try:
        host = container.get_container_host_ip()
        wait_http(f"http://{host}:{container.get_exposed_port(13133)}/", timeout_s=60)
        yield f"http://{host}:{container.get_exposed_port(4317)}", exports, container
    finally:
        container.stop()


def _emit(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer("container-test")
    with tracer.start_as_current_span("task") as span:
        span.set_attribute("task.id", "t1")
        with tracer.start_as_current_span("chat model"):
            pass
    telemetry.meter("container-test").create_gauge("hw.gpu.utilization", unit="1").set(0.25, {"hw.id": "GPU-0"})
    telemetry.shutdown()


def _view(lines: list[dict]) -> tuple[list, list]:
    span_view = sorted((s["name"], s["kind"], json.dumps(s["attributes"], sort_keys=True)) for s in spans(lines))
    point_view = sorted((p["name"], p["value"], json.dumps(p["attributes"], sort_keys=True)) for p in points(lines))
    return span_view, point_view


def _lines(directory: Path) -> list[dict]:
    return [line for path in sorted(directory.glob("*.jsonl")) for line in read_lines(path)]


def test_real_collector_files_match_the_double_after_a_graceful_stop(
    real_collector: tuple[str, Path, object], collector: CollectorDouble
) -> None:
    endpoint, exports, container = real_collector
    for target in (endpoint, collector.endpoint):
        for run_id in (RUN_ID, None):
            _emit(setup_telemetry(TelemetryConfig("container-test", run_id, otlp_endpoint=target)))
    # docker stop sends SIGTERM: the Collector drains its batch processor and closes its files.
    container.get_wrapped_container().stop(timeout=30)

    for run_dir in (RUN_ID, UNASSIGNED):
        real = exports / run_dir
        assert sorted(p.name for p in real.glob("*.jsonl")) == ["metrics.jsonl", "traces.jsonl"]
        for path in real.glob("*.jsonl"):
            assert path.read_text(encoding="utf-8").endswith("\n")
        real_lines = _lines(real)
        assert _view(real_lines) == _view(_lines(collector.out_dir / run_dir))
        assert {s["resource"][RUN_ID_ATTRIBUTE] for s in spans(real_lines)} == {run_dir}
