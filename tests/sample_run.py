"""Telemetry of a realistic run, emitted through the real OpenTelemetry SDK (``smoltrace_otel.telemetry``).

Until the agent and the sidecar land, these helpers produce what they will emit, following
the contracts: span and attribute names from ``smoltrace_otel.attributes``, GPU metric
names, units and attributes from ``gpu_sidecar.semconv``. They work in both transports
(embedded JSON files or OTLP/gRPC into the Collector double).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from gpu_sidecar import semconv as sc
from smoltrace_otel import attributes as A
from smoltrace_otel.telemetry import Telemetry

AGENT_NAME = "smoltrace-tool-agent"


@dataclass(frozen=True)
class Chat:
    input_tokens: int | None = 10
    output_tokens: int | None = 5
    cost_usd: float | None = None
    model: str = "gpt-4o-mini"


@dataclass(frozen=True)
class Task:
    task_id: str
    success: bool = True
    chats: Sequence[Chat] = (Chat(),)
    tools: Sequence[str] = ("calculator",)
    stop_reason: str = "final_answer"
    steps: int | None = 2
    difficulty: str = "easy"
    prompt: str = "What is 2+2?"
    answer: str = "4"
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def emit_run(
    telemetry: Telemetry,
    tasks: Iterable[Task],
    *,
    model: str = "gpt-4o-mini",
    status: str = "completed",
    planned: int | None = None,
    end_run: bool = True,
    dataset: str = "smoltrace/builtin-tasks",
    shard: str | None = None,
) -> trace.Span:
    """Emit a run span and one trace per task (root ``invoke_agent``, ``chat`` and ``execute_tool`` children).

    ``shard`` (``"I/N"``) marks the run span as one shard of a run split over machines.
    """
    tasks = list(tasks)
    tracer = telemetry.tracer("smoltrace.agent", "0.1.0")
    attributes: dict[str, Any] = {
        A.SCHEMA_VERSION_ATTR: A.SCHEMA_VERSION,
        A.RUN_MODEL: model,
        A.RUN_PROVIDER: "litellm",
        A.RUN_AGENT_TYPE: "tool",
        A.RUN_DATASET: dataset,
        A.RUN_DATASET_REVISION: "abc123",
        A.RUN_PLANNED_TASKS: planned if planned is not None else len(tasks),
    }
    if shard is not None:
        attributes[A.RUN_SHARD] = shard
    run_span = tracer.start_span(A.RUN_SPAN_NAME, context=otel_context.Context(), attributes=attributes)
    run_link = Link(run_span.get_span_context())
    for task in tasks:
        _emit_task(tracer, task, run_link)
    if end_run:
        finish_run(run_span, status, len(tasks))
    return run_span


def finish_run(run_span: trace.Span, status: str = "completed", completed: int = 0) -> None:
    """End the run span the way the agent does at the end of a run."""
    run_span.set_attribute(A.RUN_STATUS, status)
    run_span.set_attribute(A.RUN_COMPLETED_TASKS, completed)
    if status == "failed":
        run_span.set_status(Status(StatusCode.ERROR, "run failed"))
    run_span.end()


def _emit_task(tracer: trace.Tracer, task: Task, run_link: Link) -> None:
    attributes: dict[str, Any] = {
        A.SCHEMA_VERSION_ATTR: A.SCHEMA_VERSION,
        A.GEN_AI_OPERATION_NAME: "invoke_agent",
        A.GEN_AI_AGENT_NAME: AGENT_NAME,
        A.TASK_ID: task.task_id,
        A.TASK_DIFFICULTY: task.difficulty,
        A.TASK_AGENT_TYPE: "tool",
        A.TASK_PROMPT: task.prompt,
        A.TASK_EXPECTED_TOOL: task.tools[0] if task.tools else "",
        A.TASK_EXPECTED_ANSWER: task.answer,
        A.TASK_FINAL_ANSWER: task.answer if task.success else "no idea",
        A.TASK_STOP_REASON: task.stop_reason,
        A.SCORE_TOOL_CALLED: bool(task.tools),
        A.SCORE_CORRECT_TOOL: bool(task.tools),
        A.SCORE_FINAL_ANSWER_CALLED: task.stop_reason == "final_answer",
        A.SCORE_RESPONSE_CORRECT: task.success,
        A.SCORE_SUCCESS: task.success,
        A.SCORE_RULE: "expected_answer",
        **task.extra,
    }
    if task.steps is not None:
        attributes[A.TASK_STEPS] = task.steps
    if task.error:
        attributes[A.TASK_ERROR] = task.error
    root = tracer.start_span(
        f"{A.INVOKE_AGENT} {AGENT_NAME}",
        context=otel_context.Context(),
        kind=SpanKind.INTERNAL,
        attributes=attributes,
        links=[run_link],
    )
    parent = trace.set_span_in_context(root)
    for step, chat in enumerate(task.chats, start=1):
        chat_attrs: dict[str, Any] = {
            A.GEN_AI_OPERATION_NAME: A.CHAT,
            A.GEN_AI_PROVIDER_NAME: "openai",
            A.GEN_AI_REQUEST_MODEL: chat.model,
            A.GEN_AI_RESPONSE_MODEL: chat.model,
            A.SERVER_ADDRESS: "127.0.0.1",
            A.CHAT_STEP: step,
        }
        if chat.input_tokens is not None:
            chat_attrs[A.GEN_AI_USAGE_INPUT_TOKENS] = chat.input_tokens
        if chat.output_tokens is not None:
            chat_attrs[A.GEN_AI_USAGE_OUTPUT_TOKENS] = chat.output_tokens
        if chat.cost_usd is not None:
            chat_attrs[A.USAGE_COST_USD] = chat.cost_usd
        with tracer.start_as_current_span(
            f"{A.CHAT} {chat.model}", context=parent, kind=SpanKind.CLIENT, attributes=chat_attrs
        ):
            pass
    for n, tool in enumerate(task.tools):
        with tracer.start_as_current_span(
            f"{A.EXECUTE_TOOL} {tool}",
            context=parent,
            attributes={
                A.GEN_AI_OPERATION_NAME: A.EXECUTE_TOOL,
                A.GEN_AI_TOOL_NAME: tool,
                A.GEN_AI_TOOL_CALL_ID: f"call_{n}",
            },
        ):
            pass
    root.add_event(
        A.EVALUATION_EVENT,
        {
            A.GEN_AI_EVALUATION_NAME: "smoltrace.success",
            A.GEN_AI_EVALUATION_SCORE_VALUE: 1.0 if task.success else 0.0,
            A.GEN_AI_EVALUATION_SCORE_LABEL: "pass" if task.success else "fail",
        },
    )
    if task.stop_reason == "error":
        root.set_status(Status(StatusCode.ERROR, task.error or "error"))
    root.end()


@dataclass
class GpuDevice:
    """One simulated GPU whose current readings the instruments observe."""

    uuid: str
    name: str = "NVIDIA A10G"
    index: int = 0
    utilization: float = 0.0
    """Fraction 0..1 (semconv) -- the genai family reports it x100."""
    memory_bytes: int = 0
    memory_limit_bytes: int = 24 * 2**30
    power_w: float = 0.0
    temperature_c: float = 30.0
    energy_j: float | None = 0.0
    """Cumulative joules; ``None`` for a GPU without an energy counter."""

    def semconv_attributes(self) -> dict[str, Any]:
        return {
            sc.HW_ID: self.uuid,
            sc.HW_NAME: self.name,
            sc.HW_VENDOR: "NVIDIA",
            sc.HW_MODEL: self.name,
            sc.NVIDIA_GPU_INDEX: self.index,
            sc.HW_TYPE: "gpu",
        }

    def genai_attributes(self) -> dict[str, Any]:
        return {sc.GENAI_GPU_ID: str(self.index), sc.GENAI_GPU_NAME: self.name}


class GpuEmitter:
    """Observable instruments over a set of devices; :meth:`sample` exports one collection (one timestamp)."""

    def __init__(self, telemetry: Telemetry, devices: Sequence[GpuDevice], naming: sc.Naming = "semconv") -> None:
        self.telemetry = telemetry
        self.devices = list(devices)
        meter = telemetry.meter("gpu_sidecar", "0.1.0")
        if naming == "semconv":
            self._semconv(meter)
        else:
            self._genai(meter)

    def _gauge(self, meter: Any, spec: sc.MetricSpec, read: Any, attrs: Any) -> None:
        def callback(_options: CallbackOptions) -> list[Observation]:
            return [Observation(read(d), attrs(d)) for d in self.devices if read(d) is not None]

        factory = {
            "gauge": meter.create_observable_gauge,
            "counter": meter.create_observable_counter,
            "updowncounter": meter.create_observable_up_down_counter,
        }[spec.instrument]
        factory(spec.name, callbacks=[callback], unit=spec.unit, description=spec.description)

    def _semconv(self, meter: Any) -> None:
        attrs = GpuDevice.semconv_attributes
        self._gauge(meter, sc.HW_GPU_UTILIZATION, lambda d: d.utilization, attrs)
        self._gauge(meter, sc.HW_GPU_MEMORY_USAGE, lambda d: d.memory_bytes, attrs)
        self._gauge(meter, sc.HW_GPU_MEMORY_LIMIT, lambda d: d.memory_limit_bytes, attrs)
        self._gauge(meter, sc.HW_POWER, lambda d: d.power_w, attrs)
        self._gauge(meter, sc.HW_ENERGY, lambda d: d.energy_j, attrs)
        self._gauge(meter, sc.HW_TEMPERATURE, lambda d: d.temperature_c, attrs)

    def _genai(self, meter: Any) -> None:
        attrs = GpuDevice.genai_attributes
        self._gauge(meter, sc.GENAI_GPU_UTILIZATION, lambda d: round(d.utilization * 100), attrs)
        self._gauge(meter, sc.GENAI_GPU_MEMORY_USED, lambda d: d.memory_bytes / 2**20, attrs)
        self._gauge(meter, sc.GENAI_GPU_MEMORY_TOTAL, lambda d: d.memory_limit_bytes / 2**20, attrs)
        self._gauge(meter, sc.GENAI_GPU_TEMPERATURE, lambda d: d.temperature_c, attrs)
        self._gauge(meter, sc.GENAI_GPU_POWER, lambda d: d.power_w, attrs)

    def sample(self, updates: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Set readings (``updates[uuid] = {field: value}``) and export one collection."""
        by_uuid = {d.uuid: d for d in self.devices}
        for uuid, fields in (updates or {}).items():
            for name, value in fields.items():
                setattr(by_uuid[uuid], name, value)
        assert self.telemetry.meter_provider is not None
        self.telemetry.meter_provider.force_flush()

    def close(self) -> None:
        """Shut the telemetry down without the extra collection shutdown would otherwise export."""
        self.devices = []
        self.telemetry.shutdown()
