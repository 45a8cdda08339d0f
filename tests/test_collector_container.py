"""The real Collector image with collector-config/config.yaml (testcontainers; skipped without Docker).

Two checks with the pinned otelcol-contrib image:

* our telemetry wiring exports spans and metrics (with and without a run id) to it; after a graceful
  stop its files sit where the publisher reads them and carry what the Collector double writes;
* one whole evaluation as docker-compose runs it: the agent (against the chat server double, through
  litellm) and the GPU sidecar (two fake GPUs) export to it over OTLP/gRPC, it is stopped gracefully, and
  the publisher turns its files into the same results and leaderboard row as embedded mode gives for the
  same run.

The non-Docker half of the second check (tests/pipeline_run.py) also runs here against the Collector
double, so the comparison itself is tested on machines without Docker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publisher.local import PublishedRun
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE, UNASSIGNED
from smoltrace_otel.telemetry import Telemetry, TelemetryConfig, setup_telemetry
from smoltrace_otel.waitfor import wait_http
from tests.deploy_files import COLLECTOR_CONFIGS, CONTRIB_RELEASE, load_compose, load_yaml
from tests.doubles.chat_server import ChatServerDouble, running_chat_server
from tests.doubles.collector import CollectorDouble
from tests.otlp_shapes import points, read_lines, spans
from tests.pipeline_run import (
    EXPECTED_SUCCESS,
    GPU_COUNT,
    RUN_ID,
    ProcessOutcome,
    RunPlan,
    Transport,
    leaderboard_view,
    plan_run,
    publish,
    results_view,
    run_agent_and_sidecar,
)

RUN_ID_SMALL = "run-container-1"
CONFIG_IN_IMAGE = "/etc/otelcol-contrib/config.yaml"
EXPORTS_IN_IMAGE = "/exports"
HEALTH_PORT = 13133
GRPC_PORT = 4317
HEALTH_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def docker_engine() -> None:
    """Skips, with the reason, where no Docker engine answers (CI has none; the static checks still run there)."""
    try:
        import docker

        docker.from_env().ping()
    except Exception as error:  # any failure means: no engine we can use here
        pytest.skip(f"no Docker engine answers ({type(error).__name__}: {error}); the static checks still ran")


def _stop_grace_s() -> float:
    """The compose file's stop grace period for the Collector (e.g. ``30s``), so the test stops it the same way."""
    grace = load_compose()["services"]["collector"]["stop_grace_period"]
    assert grace.endswith("s") and grace[:-1].isdigit(), f"unexpected stop_grace_period {grace!r}"
    return float(grace[:-1])


@dataclass(frozen=True)
class RealCollector:
    """A started otelcol-contrib container; ``endpoint`` is its mapped OTLP/gRPC port on the host."""

    endpoint: str
    exports: Path
    container: Any  # testcontainers.core.container.DockerContainer

    def logs(self) -> str:
        stdout, stderr = self.container.get_logs()
        return (stdout + stderr).decode("utf-8", errors="replace")[-4000:]

    def stop_gracefully(self) -> int:
        """``docker stop``: SIGTERM, so the batch processor drains and the file exporters flush and close; the exit code."""
        wrapped = self.container.get_wrapped_container()
        grace = _stop_grace_s()
        wrapped.stop(timeout=int(grace))
        return int(wrapped.wait(timeout=grace + 30)["StatusCode"])


@pytest.fixture
def real_collector(docker_engine: None, tmp_path: Path) -> Iterator[RealCollector]:
    """The pinned otelcol-contrib image with our config, as the host user, writing to tmp_path/exports."""
    from testcontainers.core.container import DockerContainer

    exports = tmp_path / "exports"
    exports.mkdir()
    image = load_yaml(CONTRIB_RELEASE)["image"]
    container = (
        DockerContainer(image)
        .with_command([f"--config={CONFIG_IN_IMAGE}"])
        .with_volume_mapping(str(COLLECTOR_CONFIGS["config"]), CONFIG_IN_IMAGE, "ro")
        .with_volume_mapping(str(exports), EXPORTS_IN_IMAGE, "rw")
        .with_exposed_ports(GRPC_PORT, HEALTH_PORT)
        # The image runs as uid 10001; as the host user it can write the bind mount and we can read its files.
        .with_kwargs(user=f"{os.getuid()}:{os.getgid()}")
    )
    try:
        container.start()  # pulls the image on first use
        host = container.get_container_host_ip()
        # Ports are looked up while the container runs (testcontainers waits for "running" on each lookup).
        health = f"http://{host}:{container.get_exposed_port(HEALTH_PORT)}/"
        endpoint = f"http://{host}:{container.get_exposed_port(GRPC_PORT)}"
        started = RealCollector(endpoint, exports, container)
        try:
            wait_http(health, timeout_s=HEALTH_TIMEOUT_S)
        except Exception as error:
            raise AssertionError(f"the Collector's health endpoint did not answer:\n{started.logs()}") from error
        yield started
    finally:
        container.stop()  # removes the container (already stopped by the test, or still running after a failure)


# --- our telemetry wiring against the real image ----------------------------------------------------------


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


def _check_collector_files(run_dir: Path, names: list[str], collector: RealCollector) -> None:
    """The Collector's files of one run: the expected names, owned by us, every line complete."""
    found = sorted(p.name for p in run_dir.glob("*.jsonl"))
    assert found == names, f"{run_dir}: {found}\n{collector.logs()}"
    for path in run_dir.glob("*.jsonl"):
        assert path.stat().st_uid == os.getuid(), f"{path} is not owned by the host user"
        assert path.read_text(encoding="utf-8").endswith("\n"), f"{path} ends in a half-written line"


@pytest.mark.docker
@pytest.mark.slow
def test_real_collector_files_match_the_double_after_a_graceful_stop(
    real_collector: RealCollector, collector: CollectorDouble
) -> None:
    for target in (real_collector.endpoint, collector.endpoint):
        for run_id in (RUN_ID_SMALL, None):
            _emit(setup_telemetry(TelemetryConfig("container-test", run_id, otlp_endpoint=target)))
    assert real_collector.stop_gracefully() == 0, real_collector.logs()

    for run_dir in (RUN_ID_SMALL, UNASSIGNED):
        real = real_collector.exports / run_dir
        _check_collector_files(real, ["metrics.jsonl", "traces.jsonl"], real_collector)
        real_lines = _lines(real)
        assert _view(real_lines) == _view(_lines(collector.out_dir / run_dir))
        assert {s["resource"][RUN_ID_ATTRIBUTE] for s in spans(real_lines)} == {run_dir}


# --- one whole evaluation: Collector mode against embedded mode ------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The run in embedded mode, published: what Collector mode must reproduce."""

    plan: RunPlan
    server: ChatServerDouble
    published: PublishedRun


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    """The tasks and GPUs of the run once in embedded mode (shared by the double and the real-image checks)."""
    directory = tmp_path_factory.mktemp("embedded")
    with running_chat_server() as server:
        plan = plan_run(directory / "inputs", server)
        outcome = run_agent_and_sidecar(plan, Transport(exports_dir=directory / "exports"), directory / "logs")
        _check_processes(outcome)
        yield Reference(plan, server, publish(directory / "exports", directory / "published"))


def _check_processes(outcome: ProcessOutcome) -> None:
    agent = outcome.agent
    assert agent.returncode == 0, agent.stderr
    succeeded = sum(EXPECTED_SUCCESS.values())
    assert f"run {RUN_ID}: {succeeded}/{len(EXPECTED_SUCCESS)} task(s) succeeded, 0 error(s)" in agent.stdout
    assert outcome.sidecar_returncode == 0, outcome.sidecar_log
    assert "signal 15: taking a last sample, flushing, exiting" in outcome.sidecar_log


def _run_through_collector(reference: Reference, endpoint: str, log_dir: Path) -> list[dict[str, Any]]:
    """The same run, exporting to ``endpoint``; returns the completions the chat server served for it."""
    served_before = len(reference.server.responses)
    _check_processes(run_agent_and_sidecar(reference.plan, Transport(otlp_endpoint=endpoint), log_dir))
    return reference.server.responses[served_before:]


def _check_same_run(reference: Reference, published: PublishedRun, served: list[dict[str, Any]]) -> None:
    """Collector mode published the run embedded mode published, and both hold what the run did."""
    results = results_view(published)
    assert results == results_view(reference.published)
    assert {row["task_id"]: row["success"] for row in results} == EXPECTED_SUCCESS
    assert {row["run_id"] for row in results} == {RUN_ID}

    board = leaderboard_view(published)
    assert board == leaderboard_view(reference.published)
    assert board["total_tests"] == len(EXPECTED_SUCCESS)
    assert board["successful_tests"] == sum(EXPECTED_SUCCESS.values())
    assert board["run_status"] == "completed"
    assert board["error_spans"] == 1, "the convert task's first tool call failed"
    assert board["total_tokens"] == sum(completion["usage"]["total_tokens"] for completion in served)
    assert board["gpu_count"] == GPU_COUNT
    assert board["gpu_utilization_avg"] == pytest.approx(75.0)
    for run in (published, reference.published):
        assert run.leaderboard_row["energy_wh"] > 0, "the sidecar's energy counters reached the publisher"
        assert run.metric_rows > 0 and run.incomplete == []


@pytest.mark.slow
def test_collector_double_run_publishes_what_embedded_mode_publishes(
    embedded: Reference, collector: CollectorDouble, tmp_path: Path
) -> None:
    served = _run_through_collector(embedded, collector.endpoint, tmp_path / "logs")
    assert sorted(p.name for p in (collector.out_dir / RUN_ID).glob("*.jsonl")) == ["metrics.jsonl", "traces.jsonl"]
    _check_same_run(embedded, publish(collector.out_dir, tmp_path / "published"), served)


@pytest.mark.docker
@pytest.mark.slow
def test_real_collector_run_publishes_what_embedded_mode_publishes(
    docker_engine: None, real_collector: RealCollector, embedded: Reference, tmp_path: Path
) -> None:
    """``docker_engine`` comes first: without Docker the test skips before the embedded run is made."""
    served = _run_through_collector(embedded, real_collector.endpoint, tmp_path / "logs")
    assert real_collector.stop_gracefully() == 0, real_collector.logs()

    _check_collector_files(real_collector.exports / RUN_ID, ["metrics.jsonl", "traces.jsonl"], real_collector)
    published = publish(real_collector.exports, tmp_path / "published")
    _check_same_run(embedded, published, served)
