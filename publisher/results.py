"""Results rows (one per task) and per-trace summaries, gathered from spans as they stream by.

A task is a span carrying ``smoltrace.task.id`` (the ``invoke_agent {agent}`` root of the
task's trace). Its row takes every scoring field from that span's attributes, the
``gen_ai.evaluation.result`` event, and tokens and cost summed over the ``chat`` spans of
the same trace, each model call once (spans are deduplicated before they get here).
The duration is the root span's own duration, never a sum over nested spans.

Only small per-trace counters and the task roots' fields are kept, so memory grows with
the number of tasks, not with the size of the export.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from math import isnan
from typing import Any

from publisher.otlp_json import Span
from publisher.schemas import PUBLISHED_SCHEMA_VERSION
from smoltrace_otel import attributes as A

CHAT_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
STATUS_ERROR = 2


def is_chat(span: Span) -> bool:
    """A model call: ``chat {model}`` or a GenAI inference operation."""
    operation = span.attributes.get(A.GEN_AI_OPERATION_NAME)
    if operation is not None:
        return operation in CHAT_OPERATIONS
    return span.name == A.CHAT or span.name.startswith(A.CHAT + " ")


def is_tool(span: Span) -> bool:
    operation = span.attributes.get(A.GEN_AI_OPERATION_NAME)
    if operation is not None:
        return operation == A.EXECUTE_TOOL
    return span.name == A.EXECUTE_TOOL or span.name.startswith(A.EXECUTE_TOOL + " ")


@dataclass
class TraceUsage:
    """What one trace's spans add up to."""

    spans: int = 0
    error_spans: int = 0
    llm_calls: int = 0
    tool_calls: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    start: int = 0
    end: int = 0
    tools: list[str] = field(default_factory=list)
    models: Counter[str] = field(default_factory=Counter)

    def add(self, span: Span) -> None:
        self.spans += 1
        if span.status_code == STATUS_ERROR:
            self.error_spans += 1
        if span.start_time_unix_nano and (not self.start or span.start_time_unix_nano < self.start):
            self.start = span.start_time_unix_nano
        self.end = max(self.end, span.end_time_unix_nano)
        if is_chat(span):
            self._add_chat(span.attributes)
        elif is_tool(span):
            self.tool_calls += 1
            tool = span.attributes.get(A.GEN_AI_TOOL_NAME) or span.name.removeprefix(A.EXECUTE_TOOL).strip()
            if tool:
                self.tools.append(str(tool))

    def _add_chat(self, attrs: dict[str, Any]) -> None:
        self.llm_calls += 1
        self.input_tokens = _add(self.input_tokens, _number(attrs.get(A.GEN_AI_USAGE_INPUT_TOKENS), int))
        self.output_tokens = _add(self.output_tokens, _number(attrs.get(A.GEN_AI_USAGE_OUTPUT_TOKENS), int))
        self.cost_usd = _add(self.cost_usd, _number(attrs.get(A.USAGE_COST_USD), float))
        model = attrs.get(A.GEN_AI_REQUEST_MODEL) or attrs.get(A.GEN_AI_RESPONSE_MODEL)
        if model:
            self.models[str(model)] += 1


def _number(value: Any, kind: type) -> Any:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        return None
    return None if isinstance(number, float) and isnan(number) else number


def _add(total: Any, value: Any) -> Any:
    if value is None:
        return total
    return value if total is None else total + value


@dataclass
class RunSpan:
    """The ``smoltrace.run`` span's facts."""

    start: int
    end: int
    status_code: int
    attributes: dict[str, Any]
    trace_id: str | None
    span_id: str | None


class ResultsCollector:
    """Feed it every (deduplicated) span with :meth:`add`; then ask for rows and summaries."""

    def __init__(self) -> None:
        self.traces: dict[str | None, TraceUsage] = {}
        self.roots: list[Span] = []
        self.run_spans: list[RunSpan] = []
        self.span_count = 0
        self.first_start: int | None = None
        self.last_end: int | None = None
        self.hosts: set[str] = set()
        self.agent_spans = 0
        """Spans that carry our own attributes (a run of our agent, not a foreign app)."""

    def add(self, span: Span) -> None:
        self.span_count += 1
        if span.start_time_unix_nano and (self.first_start is None or span.start_time_unix_nano < self.first_start):
            self.first_start = span.start_time_unix_nano
        if span.end_time_unix_nano and (self.last_end is None or span.end_time_unix_nano > self.last_end):
            self.last_end = span.end_time_unix_nano
        host = span.resource.attributes.get("host.name")
        if host:
            self.hosts.add(str(host))
        usage = self.traces.get(span.trace_id)
        if usage is None:
            usage = self.traces[span.trace_id] = TraceUsage()
        usage.add(span)
        if span.name == A.RUN_SPAN_NAME:
            self.agent_spans += 1
            self.run_spans.append(
                RunSpan(
                    span.start_time_unix_nano,
                    span.end_time_unix_nano,
                    span.status_code,
                    span.attributes,
                    span.trace_id,
                    span.span_id,
                )
            )
        elif A.TASK_ID in span.attributes:
            self.agent_spans += 1
            span.resource = _slim_resource(span.resource)
            span.links = []
            self.roots.append(span)

    @property
    def run_span(self) -> RunSpan | None:
        """The run span (the latest-ending one if a run was resumed and has several)."""
        return max(self.run_spans, key=lambda r: r.end) if self.run_spans else None

    def window(self) -> tuple[int, int] | None:
        """The run's time window: the run span's start..end, else the first..last span."""
        run = self.run_span
        if run is not None and run.start and run.end:
            return (min(r.start for r in self.run_spans), run.end)
        if self.first_start is not None and self.last_end is not None:
            return (self.first_start, self.last_end)
        return None

    def results_rows(self, run_id: str) -> list[dict[str, Any]]:
        """One row per task root span, sorted by task id then start time (stable across re-publishes)."""
        run_attrs = self.run_span.attributes if self.run_span else {}
        rows = [
            _result_row(root, self.traces.get(root.trace_id) or TraceUsage(), run_id, run_attrs) for root in self.roots
        ]
        rows.sort(key=lambda r: (str(r["task_id"]), r["start_time_unix_nano"], r["span_id"] or ""))
        return rows

    def trace_summaries(self) -> list[dict[str, Any]]:
        """The brief's ``trace_data``: one summary per trace, sorted by trace id."""
        out = []
        for trace_id, usage in sorted(self.traces.items(), key=lambda item: item[0] or ""):
            out.append(
                {
                    "trace_id": trace_id,
                    "span_count": usage.spans,
                    "error_spans": usage.error_spans,
                    "llm_calls": usage.llm_calls,
                    "tool_calls": usage.tool_calls,
                    "prompt_tokens": usage.input_tokens,
                    "completion_tokens": usage.output_tokens,
                    "total_tokens": _total(usage.input_tokens, usage.output_tokens),
                    "total_cost_usd": usage.cost_usd,
                    "total_duration_ms": max(0, usage.end - usage.start) / 1e6,
                }
            )
        return out


class _SlimResource:
    __slots__ = ("attributes", "key")

    def __init__(self, attributes: dict[str, Any]) -> None:
        self.attributes = attributes
        self.key = ""


def _slim_resource(resource: Any) -> Any:
    keep = {k: resource.attributes[k] for k in ("service.name", "host.name") if k in resource.attributes}
    return _SlimResource(keep)


def _total(a: int | None, b: int | None) -> int | None:
    if a is None and b is None:
        return None
    return (a or 0) + (b or 0)


def _evaluation(root: Span) -> dict[str, Any]:
    for event in root.events:
        if event.name == A.EVALUATION_EVENT:
            return event.attributes
    return {}


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _result_row(root: Span, usage: TraceUsage, run_id: str, run_attrs: dict[str, Any]) -> dict[str, Any]:
    attrs = root.attributes
    evaluation = _evaluation(root)
    score_value = evaluation.get(A.GEN_AI_EVALUATION_SCORE_VALUE)
    return {
        "schema_version": PUBLISHED_SCHEMA_VERSION,
        "run_id": run_id,
        "task_id": _text(attrs.get(A.TASK_ID)),
        "agent_type": _text(attrs.get(A.TASK_AGENT_TYPE) or run_attrs.get(A.RUN_AGENT_TYPE)),
        "agent_name": _text(attrs.get(A.GEN_AI_AGENT_NAME)),
        "model": _text(usage.models.most_common(1)[0][0] if usage.models else run_attrs.get(A.RUN_MODEL)),
        "difficulty": _text(attrs.get(A.TASK_DIFFICULTY)),
        "category": _text(attrs.get(A.TASK_CATEGORY)),
        "prompt": _text(attrs.get(A.TASK_PROMPT)),
        "expected_tool": _text(attrs.get(A.TASK_EXPECTED_TOOL)),
        "expected_answer": _text(attrs.get(A.TASK_EXPECTED_ANSWER)),
        "response": _text(attrs.get(A.TASK_FINAL_ANSWER)),
        "success": _bool(attrs.get(A.SCORE_SUCCESS)),
        "tool_called": _bool(attrs.get(A.SCORE_TOOL_CALLED)),
        "correct_tool": _bool(attrs.get(A.SCORE_CORRECT_TOOL)),
        "final_answer_called": _bool(attrs.get(A.SCORE_FINAL_ANSWER_CALLED)),
        "response_correct": _bool(attrs.get(A.SCORE_RESPONSE_CORRECT)),
        "score_rule": _text(attrs.get(A.SCORE_RULE)),
        "evaluation_name": _text(evaluation.get(A.GEN_AI_EVALUATION_NAME)),
        "evaluation_score": _number(score_value, float),
        "evaluation_label": _text(evaluation.get(A.GEN_AI_EVALUATION_SCORE_LABEL)),
        "stop_reason": _text(attrs.get(A.TASK_STOP_REASON)),
        "error": _text(attrs.get(A.TASK_ERROR) or (root.status_message if root.status_code == STATUS_ERROR else None)),
        "steps": _number(attrs.get(A.TASK_STEPS), int),
        "llm_calls": usage.llm_calls,
        "tool_calls": usage.tool_calls,
        "tools_used": sorted(set(usage.tools)),
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": _total(usage.input_tokens, usage.output_tokens),
        "cost_usd": usage.cost_usd,
        "duration_ms": root.duration_ms,
        "start_time_unix_nano": root.start_time_unix_nano,
        "end_time_unix_nano": root.end_time_unix_nano,
        "status_code": root.status_name,
        "trace_id": root.trace_id,
        "span_id": root.span_id,
        "service_name": _text(root.resource.attributes.get("service.name")),
        "host_name": _text(root.resource.attributes.get("host.name")),
    }
