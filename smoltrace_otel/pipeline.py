"""``smoltrace run``: the whole evaluation on one machine, in one command.

The steps, each in its own module, glued here:

1. fix the run id (validated, or a new UUID4) and refuse a run id that already has
   exports or published files unless ``--resume`` is given (a resume re-runs only the
   tasks that did not finish);
2. start the offline model (``local/smollm2``, a llama.cpp server) when asked for;
3. start the GPU sidecar as a child process when NVML sees a GPU (a notice otherwise);
4. run the agent in this process (:func:`agent.runner.execute_run`);
5. stop the sidecar (it takes a last sample and flushes) and the model server;
6. publish: the local datasets always, then the Hub with ``--output-format hub``;
7. return what happened, for the CLI's summary.

Collector mode (``--otlp-endpoint`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``): the agent and the
sidecar export over OTLP, and the publisher reads the Collector's export directory
(``--exports-dir``) once its files have stopped changing.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from smoltrace_otel import attributes as A
from smoltrace_otel import env
from smoltrace_otel.errors import ExitCode, SmoltraceError, UsageError
from smoltrace_otel.local_model import LocalModelServer, LocalServerSettings, is_local_model
from smoltrace_otel.runid import resolve_run_id
from smoltrace_otel.sidecar_process import SidecarProcess, SidecarSettings, gpus_present

if TYPE_CHECKING:
    from agent.runner import RunSummary
    from agent.settings import AgentSettings
    from publisher.hub_settings import HubSettings
    from publisher.local import PublishedRun

logger = logging.getLogger(__name__)

OutputFormat = Literal["local", "hub"]
INTERRUPTED_STOP_REASON = "interrupted"
LOCAL_MAX_TOKENS = 256
"""Offline model: the default cap on generated tokens per call (a 135M model on CPU can ramble for minutes)."""
COLLECTOR_SETTLE_S = 3.0
"""Collector mode: files unchanged this long are taken as flushed (the file exporter flushes every 1 s)."""


@dataclass(frozen=True)
class RunSettings:
    """Everything ``smoltrace run`` needs; the agent's own settings are nested."""

    agent: AgentSettings
    run_id: str | None = None
    resume: bool = False
    otlp_endpoint: str | None = None
    exports_dir: Path = field(default_factory=env.exports_dir_default)
    output_dir: Path = field(default_factory=env.output_dir_default)
    output_format: OutputFormat = "local"
    hub: HubSettings | None = None
    gpu: bool = True
    """Start the GPU sidecar when a GPU is present; ``False`` never starts it."""
    sidecar_interval_s: float = 1.0
    collector_wait_s: float = 60.0
    """Collector mode: how long to wait for the run's files to settle before publishing."""


@dataclass
class RunOutcome:
    """What ``smoltrace run`` did, for its summary and exit code."""

    run_id: str
    mode: str
    model: str
    exports_dir: Path
    summary: RunSummary | None = None
    published: PublishedRun | None = None
    hub: Any = None
    gpu_notice: str = ""
    skipped_tasks: int = 0
    notices: list[str] = field(default_factory=list)
    publish_error: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.summary is not None and self.summary.exit_code in (ExitCode.RUN_FAILED, ExitCode.INTERRUPTED):
            return self.summary.exit_code
        if self.publish_error is not None:
            return ExitCode.RUN_FAILED
        if self.summary is not None:
            return self.summary.exit_code
        return ExitCode.OK


def existing_run(run_id: str, exports_dir: Path, output_dir: Path) -> Path | None:
    """Where a run with this id already left files (exports or published data), if anywhere."""
    run_dir = exports_dir / run_id
    if run_dir.is_dir() and any(run_dir.glob("*.jsonl")):
        return run_dir
    for found in output_dir.glob(f"*/data/*/{run_id}.parquet"):
        return found
    return None


def finished_task_ids(run_dir: Path) -> frozenset[str]:
    """Task ids whose root span in ``run_dir`` ended other than ``interrupted``: done, not re-run on resume."""
    from publisher.exports import ReadStats, export_files, read_documents
    from publisher.otlp_json import iter_spans

    done: set[str] = set()
    for signal, document in read_documents(export_files(run_dir), ReadStats()):
        if signal != "spans":
            continue
        for span in iter_spans(document):
            task_id = span.attributes.get(A.TASK_ID)
            if task_id is None or not span.name.startswith(A.INVOKE_AGENT):
                continue
            if span.attributes.get(A.TASK_STOP_REASON) != INTERRUPTED_STOP_REASON:
                done.add(str(task_id))
    return frozenset(done)


def _wait_for_collector_files(run_dir: Path, timeout_s: float) -> None:
    from publisher.exports import export_files, seconds_since_last_write

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        quiet = seconds_since_last_write(export_files(run_dir))
        if quiet is not None and quiet >= COLLECTOR_SETTLE_S:
            return
        time.sleep(0.5)
    logger.warning(
        "the Collector's files in %s were still changing after %.0f s; publishing anyway", run_dir, timeout_s
    )


def run_pipeline(settings: RunSettings) -> RunOutcome:
    """Run one evaluation end to end; see the module docstring."""
    from agent.runner import execute_run, prepare_run, telemetry_config, with_model
    from smoltrace_otel.telemetry import resolve_mode, setup_telemetry

    run_id = resolve_run_id(settings.run_id)
    agent = settings.agent
    local = is_local_model(agent.model.model)
    model_name = agent.model.model or "local/smollm2"
    if local:
        # Checked against a placeholder now; pointed at the server once it answers.
        agent = replace(agent, model=replace(agent.model, model="openai/placeholder", api_base="http://127.0.0.1:1/v1"))
        if agent.generation.max_tokens is None:
            agent = replace(agent, generation=replace(agent.generation, max_tokens=LOCAL_MAX_TOKENS))

    found = existing_run(run_id, settings.exports_dir, settings.output_dir)
    if found is not None and not settings.resume:
        raise UsageError(
            f"run id {run_id} already exists ({found}); use --resume to finish it, or choose another --run-id"
        )
    skip = finished_task_ids(settings.exports_dir / run_id) if settings.resume else frozenset()
    if skip:
        agent = replace(agent, tasks=replace(agent.tasks, skip_ids=skip))
    prepared = prepare_run(agent)  # refuses bad settings and task sets before anything starts

    telemetry_settings = telemetry_config(run_id, settings.otlp_endpoint, settings.exports_dir)
    mode = resolve_mode(telemetry_settings)
    outcome = RunOutcome(run_id, mode, model_name, settings.exports_dir, skipped_tasks=len(skip))

    with contextlib.ExitStack() as stack:
        if local:
            server = stack.enter_context(
                LocalModelServer(
                    LocalServerSettings(
                        model=model_name, log_file=settings.output_dir / "logs" / f"{run_id}.llama-server.log"
                    )
                )
            )
            prepared = with_model(
                prepared,
                replace(agent.model, model=server.litellm_model, api_base=server.api_base, tool_results_as_user=True),
            )
        sidecar = _start_sidecar(settings, run_id, outcome, stack)
        telemetry = setup_telemetry(telemetry_settings)
        try:
            if prepared.task_set.tasks:
                outcome.summary = execute_run(prepared, telemetry)
            else:
                outcome.notices.append("every task of this run had already finished; nothing to re-run")
        finally:
            telemetry.shutdown()
            if sidecar is not None:
                sidecar.stop()
    _publish(settings, outcome)
    return outcome


def _start_sidecar(
    settings: RunSettings, run_id: str, outcome: RunOutcome, stack: contextlib.ExitStack
) -> SidecarProcess | None:
    if not settings.gpu:
        outcome.gpu_notice = "GPU metrics off (--no-gpu)"
        return None
    present, detail = gpus_present()
    if not present:
        outcome.gpu_notice = f"no GPU metrics: {detail}"
        logger.info("%s; running without the GPU sidecar", outcome.gpu_notice)
        return None
    outcome.gpu_notice = f"GPU sidecar on {detail}"
    sidecar = SidecarProcess(
        SidecarSettings(
            run_id=run_id,
            exports_dir=settings.exports_dir,
            otlp_endpoint=settings.otlp_endpoint,
            interval_s=settings.sidecar_interval_s,
            log_file=settings.output_dir / "logs" / f"{run_id}.gpu-sidecar.log",
        )
    )
    return stack.enter_context(sidecar)


def _publish(settings: RunSettings, outcome: RunOutcome) -> None:
    from publisher.collect import CollectOptions
    from publisher.energy import EnergySettings
    from publisher.local import PublishRequest, publish_local

    if outcome.mode == "otlp":
        _wait_for_collector_files(settings.exports_dir / outcome.run_id, settings.collector_wait_s)
    interrupted = outcome.summary is not None and outcome.summary.interrupted
    request = PublishRequest(
        run_id=outcome.run_id,
        exports_dir=settings.exports_dir,
        output_dir=settings.output_dir,
        energy=EnergySettings.from_env(None, None),
        collect=CollectOptions(settle_seconds=0, allow_incomplete=interrupted),
    )
    try:
        outcome.published = publish_local(request)
    except SmoltraceError as error:
        outcome.publish_error = f"publishing failed: {error}"
        logger.error("%s", outcome.publish_error)
        return
    if settings.output_format == "hub":
        from publisher.hub import publish_run_to_hub
        from publisher.hub_settings import HubSettings

        try:
            outcome.hub = publish_run_to_hub(outcome.published.layout, settings.hub or HubSettings())
        except SmoltraceError as error:
            outcome.publish_error = (
                f"Hub publishing failed: {error} (the run stays staged in {settings.output_dir}; "
                "`smoltrace publish --output-format hub --resume` pushes it later)"
            )
            logger.error("%s", outcome.publish_error)
