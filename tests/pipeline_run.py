"""One whole evaluation as docker-compose runs it, without Docker: the agent and the GPU sidecar, then the publisher.

The agent (``python -m smoltrace_otel agent``) talks to the chat server double through the real
litellm HTTP path; the sidecar (``python -m gpu_sidecar``) reads two GPUs of the fake NVML. Both are
real child processes configured the way ``docker-compose.yml`` configures their containers: the
standard ``OTEL_*`` variables, ``--run-id``, and nothing else. :func:`run_agent_and_sidecar` sends
their telemetry to an OTLP/gRPC endpoint (a Collector: the real image or the double) or writes it
embedded; :func:`publish` turns an export tree into the published tables, and the ``*_view``
functions keep what must not depend on the transport, so the two modes can be compared.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from publisher.collect import CollectOptions
from publisher.local import PublishedRun, PublishRequest, publish_local
from smoltrace_otel import env
from tests.conftest import PYTHON, subprocess_env
from tests.doubles.chat_server import ChatServerDouble, Turn, answer, call, text
from tests.doubles.fake_nvml.scenarios import GIB, H100, sidecar_env, write_scenario

RUN_ID = "run-pipeline-1"
MODEL = "openai/gpt-4o-mini"
AGENT_SERVICE = "smoltrace-agent"
SIDECAR_SERVICE = "gpu-sidecar"
SIDECAR_READY = "sampling 2 device(s)"
"""The sidecar's log line once its signal handler is installed and its first reading is due."""
SIDECAR_INTERVAL_S = "0.1"
SIDECAR_EXPORT_INTERVAL_MS = "200"
SIDECAR_MAX_DURATION_S = "120"
"""An upper bound only: the sidecar is stopped with SIGTERM once the agent is done, as ``docker compose down`` does."""
PROCESS_TIMEOUT_S = 120

TASKS: list[dict[str, Any]] = [
    {
        "id": "calc",
        "prompt": "[calc] What is 6 times 7?",
        "difficulty": "easy",
        "expected_tool": "calculator",
        "expected_answer": "42",
    },
    {
        "id": "capital",
        "prompt": "[capital] What is the capital of France?",
        "difficulty": "medium",
        "expected_tool": "country_info",
        "expected_keywords": ["Paris"],
    },
    {
        "id": "convert",
        "prompt": "[convert] How many metres are 3 km?",
        "difficulty": "hard",
        "expected_tool": "convert_units",
        "expected_answer": "3000",
    },
    {"id": "guess", "prompt": "[guess] What is 2+2?", "difficulty": "easy", "expected_answer": "4"},
]
SCRIPTS: dict[str, list[Turn]] = {
    "[calc]": [call("calculator", {"expression": "6*7"}), answer("42")],
    "[capital]": [call("country_info", {"country": "France"}), answer("The capital of France is Paris.")],
    # The first call lacks two arguments: a failed execute_tool span, then the model tries again.
    "[convert]": [
        call("convert_units", {"value": 3}),
        call("convert_units", {"value": 3, "from_unit": "km", "to_unit": "m"}),
        answer("3000"),
    ],
    "[guess]": [text("5")],  # plain text, wrong: a completed task that is not a success
}
EXPECTED_SUCCESS = {"calc": True, "capital": True, "convert": True, "guess": False}
GPU_COUNT = 2

RESULTS_TRANSPORT_DEPENDENT = frozenset(
    {"trace_id", "span_id", "start_time_unix_nano", "end_time_unix_nano", "duration_ms"}
)
"""Ids and clock readings: new in every run, whichever transport carried it."""
LEADERBOARD_TRANSPORT_DEPENDENT = frozenset(
    {"timestamp", "avg_duration_ms", "total_duration_ms", "energy_wh", "co2_emissions_g"}
)
"""Clock readings, and the energy the fake GPUs used (their energy counters grow with the run's duration)."""


@dataclass(frozen=True)
class RunPlan:
    """The inputs of one evaluation: the same for every transport."""

    run_id: str
    api_base: str
    tasks_file: Path
    scenario_file: Path


@dataclass(frozen=True)
class Transport:
    """Collector mode (``otlp_endpoint``, as compose sets it) or embedded mode (files under ``exports_dir``)."""

    otlp_endpoint: str | None = None
    exports_dir: Path | None = None


@dataclass(frozen=True)
class ProcessOutcome:
    agent: subprocess.CompletedProcess[str]
    sidecar_returncode: int
    sidecar_log: str


def two_constant_gpus() -> dict[str, Any]:
    """Two busy H100s whose readings never change, so every GPU average and peak is the same in any run."""
    return {
        "driver_version": "550.54.15",
        "gpus": [
            {
                "uuid": f"GPU-{index}0000000-0000-0000-0000-000000000000",
                "name": H100,
                "pci_bus_id": f"00000000:{17 + index:02d}:00.0",
                "memory_total": 80 * GIB,
                "fields": {"utilization": 75, "memory_used": 40 * GIB, "power": 400_000, "temperature": 65},
            }
            for index in range(GPU_COUNT)
        ],
    }


def plan_run(directory: Path, server: ChatServerDouble, run_id: str = RUN_ID) -> RunPlan:
    """Write the task set and the fake-NVML scenario under ``directory``; script ``server`` for every task."""
    directory.mkdir(parents=True, exist_ok=True)
    tasks_file = directory / "tasks.json"
    tasks_file.write_text(json.dumps(TASKS), encoding="utf-8")
    for match, turns in SCRIPTS.items():
        server.script(match, turns)
    scenario_file = write_scenario(directory / "scenario.json", two_constant_gpus())
    return RunPlan(run_id, server.api_base, tasks_file, scenario_file)


def _transport_env(transport: Transport, service: str) -> dict[str, str]:
    settings = {env.OTEL_SERVICE_NAME: service}
    if transport.otlp_endpoint:
        settings[env.OTEL_EXPORTER_OTLP_ENDPOINT] = transport.otlp_endpoint
    else:
        assert transport.exports_dir is not None, "a transport needs an endpoint or an export directory"
        settings[env.SMOLTRACE_EXPORTS_DIR] = str(transport.exports_dir)
    return subprocess_env(**settings)


def _start_sidecar(plan: RunPlan, transport: Transport, log_file: Path) -> subprocess.Popen[bytes]:
    environment = sidecar_env(plan.scenario_file, _transport_env(transport, SIDECAR_SERVICE))
    environment[env.OTEL_METRIC_EXPORT_INTERVAL] = SIDECAR_EXPORT_INTERVAL_MS
    command = [PYTHON, "-m", "gpu_sidecar", "--run-id", plan.run_id]
    command += ["--interval", SIDECAR_INTERVAL_S, "--duration", SIDECAR_MAX_DURATION_S]
    with log_file.open("wb") as log:
        return subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)


def _wait_for_log_line(process: subprocess.Popen[bytes], log_file: Path, line: str) -> None:
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while line not in log_file.read_text(encoding="utf-8", errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the sidecar never logged {line!r}:\n{log_file.read_text(errors='replace')}")
        time.sleep(0.05)


def _agent_command(plan: RunPlan) -> list[str]:
    return [
        PYTHON, "-m", "smoltrace_otel", "agent", "--run-id", plan.run_id, "--model", MODEL,
        "--api-base", plan.api_base, "--tasks-file", str(plan.tasks_file), "--retry-backoff", "0.01",
    ]  # fmt: skip


def run_agent_and_sidecar(plan: RunPlan, transport: Transport, log_dir: Path) -> ProcessOutcome:
    """The sidecar samples while the agent runs every task; then SIGTERM stops the sidecar (last sample, flush)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / "sidecar.log"
    sidecar = _start_sidecar(plan, transport, log_file)
    try:
        _wait_for_log_line(sidecar, log_file, SIDECAR_READY)
        agent = subprocess.run(
            _agent_command(plan),
            env=_transport_env(transport, AGENT_SERVICE),
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT_S,
        )
        sidecar.send_signal(signal.SIGTERM)
        sidecar_code = sidecar.wait(timeout=PROCESS_TIMEOUT_S)
    finally:
        if sidecar.poll() is None:
            sidecar.kill()
            sidecar.wait()
    return ProcessOutcome(agent, sidecar_code, log_file.read_text(encoding="utf-8", errors="replace"))


def publish(exports_dir: Path, output_dir: Path, run_id: str = RUN_ID) -> PublishedRun:
    """``smoltrace publish --settle-seconds 0`` in-process: every writer has finished."""
    return publish_local(PublishRequest(run_id, exports_dir, output_dir, collect=CollectOptions(settle_seconds=0)))


def _rows(published: PublishedRun, repo: str) -> list[dict[str, Any]]:
    return pq.read_table(published.layout.data_file(repo)).to_pylist()


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits: sums of the same numbers may differ in the last bit."""
    return float(f"{value:.9g}") if isinstance(value, float) else value


def results_view(published: PublishedRun) -> list[dict[str, Any]]:
    """The results rows by task id, without what differs between two runs of the same tasks."""
    rows = _rows(published, "results")
    kept = [{k: _rounded(v) for k, v in row.items() if k not in RESULTS_TRANSPORT_DEPENDENT} for row in rows]
    return sorted(kept, key=lambda row: str(row["task_id"]))


def leaderboard_view(published: PublishedRun) -> dict[str, Any]:
    """The leaderboard row as written, without clock readings and the duration-dependent energy."""
    (row,) = _rows(published, "leaderboard")
    return {k: _rounded(v) for k, v in row.items() if k not in LEADERBOARD_TRANSPORT_DEPENDENT}
