"""Running an evaluation: load and check everything, run the tasks on N workers, report.

:func:`run_evaluation` is the programmatic entry point (``smoltrace agent`` and
``smoltrace run`` call it in-process). It refuses bad settings and malformed task sets
(UsageError, exit 2) before any model call. Then it runs the tasks on
``parallel_workers`` daemon threads and returns a :class:`RunSummary`:

* an authentication error (401/403/404) stops the run at once: no new task starts,
  open task spans end with ``stop_reason=error``, exit code 3;
* Ctrl-C or SIGTERM (in the main thread) stops scheduling, ends open spans as
  ``interrupted``, flushes, and returns exit code 130; in-flight model requests are
  abandoned, not awaited;
* tasks that end in an error or a timeout give exit code 1; otherwise 0, whatever the
  scores (a wrong answer is a result, not a failure of the run).

The caller owns the :class:`~smoltrace_otel.telemetry.Telemetry` (build it with
:func:`telemetry_config`) and shuts it down; this function flushes it before returning so
that ``spans_undelivered`` is known.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent import scoring
from agent.loop import LoopContext, RunControl, TaskResult, run_task
from agent.model_client import ModelAuthError, ModelClient
from agent.progress import Progress
from agent.settings import AGENT_NAME, AgentSettings, ModelSettings
from agent.spans import AgentTelemetry, metric_views
from agent.tasks import Task, TaskSet, load_tasks
from agent.tools import Toolbox, default_toolbox
from smoltrace_otel import attributes as a
from smoltrace_otel import env
from smoltrace_otel.errors import ExitCode
from smoltrace_otel.signals import sigterm_raises
from smoltrace_otel.telemetry import Telemetry, TelemetryConfig

logger = logging.getLogger(__name__)

SERVICE_NAME = "smoltrace-agent"
FLUSH_TIMEOUT_S = 30.0
_POLL_S = 0.1


def telemetry_config(run_id: str, otlp_endpoint: str | None = None, exports_dir: Path | None = None) -> TelemetryConfig:
    """The agent's TelemetryConfig: its service name and the GenAI histogram views."""
    return TelemetryConfig(
        service_name=SERVICE_NAME,
        run_id=run_id,
        otlp_endpoint=otlp_endpoint,
        exports_dir=exports_dir or env.exports_dir_default(),
        metric_views=metric_views(),
    )


@dataclass(frozen=True)
class RunSummary:
    run_id: str | None
    planned: int
    results: tuple[TaskResult, ...]
    interrupted: bool
    fatal_error: str | None
    spans_undelivered: int
    unapplied_params: tuple[str, ...]

    @property
    def completed(self) -> int:
        return len(self.results)

    @property
    def succeeded(self) -> int:
        return sum(r.score.success for r in self.results)

    @property
    def errors(self) -> int:
        return sum(r.outcome.stop_reason in (scoring.ERROR, scoring.TIMEOUT) for r in self.results)

    @property
    def exit_code(self) -> ExitCode:
        if self.fatal_error:
            return ExitCode.RUN_FAILED
        if self.interrupted:
            return ExitCode.INTERRUPTED
        return ExitCode.TASKS_FAILED if self.errors else ExitCode.OK


def _run_config(settings: AgentSettings, task_set: TaskSet, client: ModelClient) -> dict[str, Any]:
    source = settings.tasks
    return {
        a.RUN_MODEL: settings.model.model,
        a.RUN_PROVIDER: "litellm",
        a.RUN_AGENT_TYPE: settings.run.agent_type,
        a.RUN_DATASET: task_set.label,
        a.RUN_DATASET_REVISION: task_set.revision,
        a.RUN_DATASET_SPLIT: task_set.split,
        a.RUN_PLANNED_TASKS: len(task_set.tasks),
        a.RUN_SHARD: str(source.shard) if source.shard else None,
        a.RUN_MAX_STEPS: settings.loop.max_steps,
        a.RUN_PARALLEL_WORKERS: settings.run.parallel_workers,
        a.RUN_TASK_TIMEOUT_S: settings.loop.task_timeout_s,
        a.RUN_TOOL_TIMEOUT_S: settings.loop.tool_timeout_s,
        a.RUN_REQUEST_TIMEOUT_S: settings.model.request_timeout_s,
        a.RUN_RETRIES: settings.model.retries,
        a.RUN_UNAPPLIED_PARAMS: list(client.unapplied) or None,
        a.GEN_AI_REQUEST_TEMPERATURE: settings.generation.temperature,
        a.GEN_AI_REQUEST_TOP_P: settings.generation.top_p,
        a.GEN_AI_REQUEST_MAX_TOKENS: settings.generation.max_tokens,
        a.GEN_AI_REQUEST_SEED: settings.generation.seed,
    }


_WORKER_DONE = object()


def _worker(tasks: queue.Queue[tuple[int, Task]], done: queue.Queue[Any], ctx: LoopContext) -> None:
    try:
        while not ctx.control.stopped:
            try:
                index, task = tasks.get_nowait()
            except queue.Empty:
                return
            try:
                done.put(run_task(task, index, ctx))
            except ModelAuthError as error:
                ctx.control.stop(scoring.ERROR, f"run stopped: {ctx.client.redact(str(error))}")
                done.put(error)
                return
            except Exception as error:  # a bug must not hang the run: report it as the task's failure
                logger.exception("task %s crashed", task.id)
                done.put(error)
    finally:
        done.put(_WORKER_DONE)


@dataclass(frozen=True)
class PreparedRun:
    """A run that passed every check and can start: settings, tasks, tools and the model client."""

    settings: AgentSettings
    task_set: TaskSet
    toolbox: Toolbox
    client: ModelClient
    control: RunControl


def prepare_run(settings: AgentSettings, toolbox: Toolbox | None = None) -> PreparedRun:
    """Check the settings, load and validate the tasks, set up the client; no model call, no telemetry."""
    settings.check()
    toolbox = toolbox or default_toolbox()
    task_set = load_tasks(settings.tasks, toolbox, settings.run.agent_type)
    control = RunControl()
    client = ModelClient(settings.model, settings.generation, control.event)
    return PreparedRun(settings, task_set, toolbox, client, control)


def with_model(prepared: PreparedRun, model: ModelSettings) -> PreparedRun:
    """The same checked run against another model, e.g. a local server started after the checks."""
    settings = replace(prepared.settings, model=model)
    client = ModelClient(model, settings.generation, prepared.control.event)
    return replace(prepared, settings=settings, client=client)


def run_evaluation(settings: AgentSettings, telemetry: Telemetry, toolbox: Toolbox | None = None) -> RunSummary:
    """Run the task set of ``settings``; see the module docstring for outcomes and exit codes."""
    return execute_run(prepare_run(settings, toolbox), telemetry)


def execute_run(prepared: PreparedRun, telemetry: Telemetry) -> RunSummary:
    """Run a prepared run, emitting its telemetry; flushes before returning."""
    settings, task_set, client, control = prepared.settings, prepared.task_set, prepared.client, prepared.control
    agent_telemetry = AgentTelemetry(telemetry, client, AGENT_NAME, env.capture_message_content())
    agent_telemetry.start_run(_run_config(settings, task_set, client))
    ctx = LoopContext(client, prepared.toolbox, settings.loop, agent_telemetry, control)
    logger.info(
        "run %s: %d task(s) from %s with %s, %d worker(s)",
        telemetry.run_id,
        len(task_set.tasks),
        task_set.label,
        settings.model.model,
        settings.run.parallel_workers,
    )
    results: list[TaskResult] = []
    interrupted = False
    fatal: str | None = None
    progress = Progress(len(task_set.tasks), settings.run.progress)
    try:
        with sigterm_raises():
            fatal = _schedule(task_set, settings.run.parallel_workers, ctx, results, progress)
    except KeyboardInterrupt:
        interrupted = True
        control.stop(scoring.INTERRUPTED, "run interrupted")
        abandoned = agent_telemetry.abandon_open_tasks(scoring.INTERRUPTED, "run interrupted")
        logger.warning("interrupted: %d task(s) in flight ended as interrupted", abandoned)
    finally:
        progress.close()
        status = "failed" if fatal else "interrupted" if interrupted else "completed"
        agent_telemetry.end_run(status, len(results), fatal)
        if not telemetry.force_flush(FLUSH_TIMEOUT_S):
            logger.warning("telemetry flush timed out after %.0f s", FLUSH_TIMEOUT_S)
    return RunSummary(
        run_id=telemetry.run_id,
        planned=len(task_set.tasks),
        results=tuple(sorted(results, key=lambda r: r.index)),
        interrupted=interrupted,
        fatal_error=fatal,
        spans_undelivered=telemetry.delivery.spans_failed,
        unapplied_params=tuple(client.unapplied),
    )


def _schedule(
    task_set: TaskSet, workers: int, ctx: LoopContext, results: list[TaskResult], progress: Progress
) -> str | None:
    """Run every task on ``workers`` threads; the fatal error's message, if one stopped the run."""
    pending: queue.Queue[tuple[int, Task]] = queue.Queue()
    for index, task in enumerate(task_set.tasks):
        pending.put((index, task))
    done: queue.Queue[Any] = queue.Queue()
    threads = [
        threading.Thread(target=_worker, args=(pending, done, ctx), name=f"agent-worker-{n}", daemon=True)
        for n in range(min(workers, len(task_set.tasks)))
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    while running:
        try:
            item = done.get(timeout=_POLL_S)  # a timeout keeps the main thread responsive to signals
        except queue.Empty:
            continue
        if item is _WORKER_DONE:
            running -= 1
        elif isinstance(item, TaskResult):
            results.append(item)
            progress.task_done(item)
        elif isinstance(item, ModelAuthError):
            message = ctx.client.redact(str(item))
            ctx.control.stop(scoring.ERROR, f"run stopped: {message}")
            ctx.telemetry.abandon_open_tasks(scoring.ERROR, f"run stopped: {message}")
            return message
        else:
            logger.error("a worker failed: %s", ctx.client.redact(str(item)))
    return None
