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

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from math import isnan
from pathlib import Path
from typing import Any

from publisher.otlp_json import Span
from publisher.run_facts import RunSpan, attempt_windows, latest
from publisher.schemas import PUBLISHED_SCHEMA_VERSION
from publisher.spill import RecordSpill
from smoltrace_otel import attributes as A

CHAT_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
STATUS_ERROR = 2
_OPERATION = A.GEN_AI_OPERATION_NAME
_TOOL_OPERATION = A.EXECUTE_TOOL
_TOOL_NAME = A.GEN_AI_TOOL_NAME
_INPUT_TOKENS = A.GEN_AI_USAGE_INPUT_TOKENS
_OUTPUT_TOKENS = A.GEN_AI_USAGE_OUTPUT_TOKENS
_COST = A.USAGE_COST_USD
_REQUEST_MODEL = A.GEN_AI_REQUEST_MODEL
_RESPONSE_MODEL = A.GEN_AI_RESPONSE_MODEL
_RUN_SPAN = A.RUN_SPAN_NAME
_TASK_ID = A.TASK_ID


def operation(span: Span) -> str | None:
    """``gen_ai.operation.name``, else the operation the span name starts with (``chat gpt-4o`` -> ``chat``)."""
    value = span.attributes.get(A.GEN_AI_OPERATION_NAME)
    if value is not None:
        return str(value)
    head = span.name.split(" ", 1)[0]
    return head if head in (A.CHAT, A.EXECUTE_TOOL, A.INVOKE_AGENT) else None


class TraceUsage:
    """What one trace's spans add up to (kept for every trace, so kept small)."""

    __slots__ = (
        "cost_usd",
        "end",
        "error_spans",
        "input_tokens",
        "llm_calls",
        "model",
        "model_counts",
        "output_tokens",
        "spans",
        "start",
        "tool_calls",
        "tools",
    )

    def __init__(self) -> None:
        self.spans = self.error_spans = self.llm_calls = self.tool_calls = 0
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cost_usd: float | None = None
        self.start = self.end = 0
        self.tools: list[str] | None = None
        self.model: str | None = None
        self.model_counts: Counter[str] | None = None
        """Only once a second model shows up in the trace."""

    def add(self, span: Span) -> None:
        # Runs once per span of a possibly huge export: names are bound at module level and
        # the common paths are inlined.
        self.spans += 1
        if span.status_code == STATUS_ERROR:
            self.error_spans += 1
        start = span.start_time_unix_nano
        if start and (not self.start or start < self.start):
            self.start = start
        end = span.end_time_unix_nano
        if end > self.end:  # noqa: PLR1730 - cheaper than max() here
            self.end = end
        attrs = span.attributes
        kind = attrs.get(_OPERATION)
        if kind is None:
            kind = operation(span)
        if kind in CHAT_OPERATIONS:
            self._add_chat(attrs)
        elif kind == _TOOL_OPERATION:
            self.tool_calls += 1
            tool = attrs.get(_TOOL_NAME) or span.name.removeprefix(_TOOL_OPERATION).strip()
            if tool:
                if self.tools is None:
                    self.tools = []
                if tool not in self.tools:
                    self.tools.append(str(tool))

    def _add_chat(self, attrs: dict[str, Any]) -> None:
        self.llm_calls += 1
        value = attrs.get(_INPUT_TOKENS)
        if value is not None:
            if value.__class__ is not int:
                value = _number(value, int)
            if value is not None:
                self.input_tokens = value if self.input_tokens is None else self.input_tokens + value
        value = attrs.get(_OUTPUT_TOKENS)
        if value is not None:
            if value.__class__ is not int:
                value = _number(value, int)
            if value is not None:
                self.output_tokens = value if self.output_tokens is None else self.output_tokens + value
        value = attrs.get(_COST)
        if value is not None:
            self.cost_usd = _add(self.cost_usd, _number(value, float))
        model = attrs.get(_REQUEST_MODEL) or attrs.get(_RESPONSE_MODEL)
        if model:
            if model.__class__ is not str:
                model = str(model)
            if self.model is None:
                self.model = model
            elif self.model_counts is not None or model != self.model:
                if self.model_counts is None:
                    self.model_counts = Counter({self.model: self.llm_calls - 1})
                self.model_counts[model] += 1

    def most_used_model(self) -> str | None:
        if self.model_counts:
            return max(sorted(self.model_counts), key=self.model_counts.__getitem__)
        return self.model


def _number(value: Any, kind: type) -> Any:
    if value.__class__ is kind:
        return None if kind is float and isnan(value) else value
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


class ResultsCollector:
    """Feed it every (deduplicated) span with :meth:`add`; then write the results rows.

    Task roots are reduced to a compact record at once and spilled to a temporary file
    in ``spill_dir``; per trace only a :class:`TraceUsage` stays in memory. Call
    :meth:`close` to remove the spill file.
    """

    def __init__(self, spill_dir: Path) -> None:
        self.traces: dict[str | None, TraceUsage] = {}
        self.roots = RecordSpill(spill_dir)
        self.run_spans: list[RunSpan] = []
        self.span_count = 0
        self.hosts: set[str] = set()
        self._last_resource: object = None
        self.superseded_attempts = 0
        """Task root spans left out of the results because a later attempt of the same task replaced them."""
        self.agent_spans = 0
        """Spans that carry our own attributes (a run of our agent, not a foreign app)."""

    def add(self, span: Span) -> None:
        self.span_count += 1
        if span.resource is not self._last_resource:
            self._last_resource = span.resource
            host = span.resource.attributes.get("host.name")
            if host:
                self.hosts.add(str(host))
        usage = self.traces.get(span.trace_id)
        if usage is None:
            usage = self.traces[span.trace_id] = TraceUsage()
        usage.add(span)
        if span.name == _RUN_SPAN:
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
        elif _TASK_ID in span.attributes:
            self.agent_spans += 1
            record = _root_record(span)
            self.roots.add((record[0] or "", span.start_time_unix_nano, span.span_id or ""), record)

    def close(self) -> None:
        self.roots.close()

    @property
    def task_count(self) -> int:
        return len(self.roots)

    @property
    def error_spans(self) -> int:
        return sum(u.error_spans for u in self.traces.values())

    @property
    def run_span(self) -> RunSpan | None:
        """The run span that ended last (a resumed or sharded run has several; see ``run_facts.py``)."""
        return latest(self.run_spans)

    def attempt_windows(self) -> list[tuple[int, int]]:
        """When the run ran: each run span's start..end (overlaps merged), else the first..last span."""
        windows = attempt_windows(self.run_spans)
        if windows:
            return windows
        starts = [u.start for u in self.traces.values() if u.start]
        ends = [u.end for u in self.traces.values() if u.end]
        return [(min(starts), max(ends))] if starts and ends else []

    def window(self) -> tuple[int, int] | None:
        """The run's time window: first start..last end of its run spans, else the first..last span."""
        windows = self.attempt_windows()
        return (windows[0][0], windows[-1][1]) if windows else None

    def results_rows(self, run_id: str) -> Iterator[dict[str, Any]]:
        """One row per task id, sorted by task id (stable across re-publishes).

        A resumed run holds several task root spans for a task that was interrupted and run
        again: the row comes from the latest attempt that was not interrupted, else from
        the latest one (by start time, then span id); the others are counted in
        ``superseded_attempts``.
        """
        run_attrs = self.run_span.attributes if self.run_span else {}
        self.superseded_attempts = 0
        for record in self._latest_attempts(self.roots.sorted_records()):
            usage = self.traces.get(record[_TRACE_ID]) or TraceUsage()
            yield _result_row(record, usage, run_id, run_attrs)

    def _latest_attempts(self, records: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """The kept attempt of each task id; ``records`` come sorted by (task id, start time, span id)."""
        for _task_id, group in itertools.groupby(records, key=lambda record: record[0] or ""):
            attempts = list(group)
            finished = [r for r in attempts if r[_STOP_REASON] != INTERRUPTED]
            self.superseded_attempts += len(attempts) - 1
            yield (finished or attempts)[-1]

    def trace_summaries(self) -> Iterator[dict[str, Any]]:
        """The brief's ``trace_data``: one summary per trace, in trace id order (generated on demand)."""
        for trace_id in sorted(self.traces, key=lambda t: t or ""):
            usage = self.traces[trace_id]
            yield {
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


_ROOT_FIELDS = (
    "task_id", "agent_type", "agent_name", "difficulty", "category", "prompt", "expected_tool", "expected_answer",
    "response", "success", "tool_called", "correct_tool", "final_answer_called", "response_correct", "score_rule",
    "evaluation_name", "evaluation_score", "evaluation_label", "stop_reason", "error", "steps", "duration_ms",
    "start_time_unix_nano", "end_time_unix_nano", "status_code", "trace_id", "span_id", "service_name", "host_name",
)  # fmt: skip
_TRACE_ID = _ROOT_FIELDS.index("trace_id")
_STOP_REASON = _ROOT_FIELDS.index("stop_reason")
INTERRUPTED = "interrupted"


def _root_record(root: Span) -> tuple[Any, ...]:
    """The task root's own fields, in ``_ROOT_FIELDS`` order (plain values, to be spilled)."""
    attrs = root.attributes
    evaluation = _evaluation(root)
    resource = root.resource.attributes
    return (
        _text(attrs.get(A.TASK_ID)),
        _text(attrs.get(A.TASK_AGENT_TYPE)),
        _text(attrs.get(A.GEN_AI_AGENT_NAME)),
        _text(attrs.get(A.TASK_DIFFICULTY)),
        _text(attrs.get(A.TASK_CATEGORY)),
        _text(attrs.get(A.TASK_PROMPT)),
        _text(attrs.get(A.TASK_EXPECTED_TOOL)),
        _text(attrs.get(A.TASK_EXPECTED_ANSWER)),
        _text(attrs.get(A.TASK_FINAL_ANSWER)),
        _bool(attrs.get(A.SCORE_SUCCESS)),
        _bool(attrs.get(A.SCORE_TOOL_CALLED)),
        _bool(attrs.get(A.SCORE_CORRECT_TOOL)),
        _bool(attrs.get(A.SCORE_FINAL_ANSWER_CALLED)),
        _bool(attrs.get(A.SCORE_RESPONSE_CORRECT)),
        _text(attrs.get(A.SCORE_RULE)),
        _text(evaluation.get(A.GEN_AI_EVALUATION_NAME)),
        _number(evaluation.get(A.GEN_AI_EVALUATION_SCORE_VALUE), float),
        _text(evaluation.get(A.GEN_AI_EVALUATION_SCORE_LABEL)),
        _text(attrs.get(A.TASK_STOP_REASON)),
        _text(attrs.get(A.TASK_ERROR) or (root.status_message if root.status_code == STATUS_ERROR else None)),
        _number(attrs.get(A.TASK_STEPS), int),
        root.duration_ms,
        root.start_time_unix_nano,
        root.end_time_unix_nano,
        root.status_name,
        root.trace_id,
        root.span_id,
        _text(resource.get("service.name")),
        _text(resource.get("host.name")),
    )


def _result_row(record: tuple[Any, ...], usage: TraceUsage, run_id: str, run_attrs: dict[str, Any]) -> dict[str, Any]:
    row = dict(zip(_ROOT_FIELDS, record, strict=True))
    row["agent_type"] = row["agent_type"] or _text(run_attrs.get(A.RUN_AGENT_TYPE))
    row.update(
        schema_version=PUBLISHED_SCHEMA_VERSION,
        run_id=run_id,
        model=usage.most_used_model() or _text(run_attrs.get(A.RUN_MODEL)),
        llm_calls=usage.llm_calls,
        tool_calls=usage.tool_calls,
        tools_used=sorted(usage.tools or ()),
        prompt_tokens=usage.input_tokens,
        completion_tokens=usage.output_tokens,
        total_tokens=_total(usage.input_tokens, usage.output_tokens),
        cost_usd=usage.cost_usd,
    )
    return row
