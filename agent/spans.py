"""The agent's telemetry: GenAI spans, evaluation events and metrics (names in ``smoltrace_otel.attributes``).

* ``smoltrace.run`` (INTERNAL, its own trace): the run's configuration, from start to end.
* One trace per task, rooted at ``invoke_agent {agent}`` (INTERNAL), linked to the run span;
  it carries the task, the final answer, the steps, the stop reason and every score.
* ``chat {model}`` (CLIENT) for each model call, with usage, cost (when the price is known)
  and the attempts it took; ``execute_tool {tool}`` (INTERNAL) for each tool call.
* ``gen_ai.evaluation.result`` events on the root span, one per scored field.
* ``gen_ai.client.token.usage`` and ``gen_ai.client.operation.duration`` histograms with the
  conventions' bucket boundaries (:func:`metric_views`).

Message content (messages sent and received, tool arguments and results) is recorded only
when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``. Task prompts and final
answers are evaluation data and always recorded. Every string attribute is redacted.

Open spans are tracked, so that an interrupt or a fatal error can end them
(:meth:`AgentTelemetry.abandon_open_tasks`) while worker threads are still busy; a span
ends once, whoever gets there first.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from agent.model_client import ChatResult, ModelClient, ToolCallRequest
from agent.scoring import ERROR, INTERRUPTED, TIMEOUT, Score
from agent.tasks import Task
from smoltrace_otel import __version__
from smoltrace_otel import attributes as a
from smoltrace_otel.telemetry import Telemetry

SCOPE = "smoltrace.agent"
_PROVIDER_NAMES = {
    "openai": "openai", "text-completion-openai": "openai", "azure": "azure.ai.openai", "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic", "bedrock": "aws.bedrock", "vertex_ai": "gcp.vertex_ai", "gemini": "gcp.gemini",
    "groq": "groq", "mistral": "mistral_ai", "cohere": "cohere", "cohere_chat": "cohere", "deepseek": "deepseek",
    "perplexity": "perplexity", "xai": "x_ai", "watsonx": "ibm.watsonx.ai",
}  # fmt: skip
SCORE_FIELDS = (
    ("tool_called", a.SCORE_TOOL_CALLED),
    ("correct_tool", a.SCORE_CORRECT_TOOL),
    ("final_answer_called", a.SCORE_FINAL_ANSWER_CALLED),
    ("response_correct", a.SCORE_RESPONSE_CORRECT),
    ("success", a.SCORE_SUCCESS),
)


def provider_name(litellm_provider: str) -> str:
    """``gen_ai.provider.name``: the conventions' well-known value, else litellm's provider name."""
    return _PROVIDER_NAMES.get(litellm_provider, litellm_provider)


def metric_views() -> list[View]:
    """Views giving the two GenAI client histograms the conventions' bucket boundaries."""
    return [
        View(
            instrument_name=a.METRIC_TOKEN_USAGE,
            aggregation=ExplicitBucketHistogramAggregation(a.TOKEN_USAGE_BUCKETS),
        ),
        View(
            instrument_name=a.METRIC_OPERATION_DURATION,
            aggregation=ExplicitBucketHistogramAggregation(a.OPERATION_DURATION_BUCKETS),
        ),
    ]


def semconv_messages(messages: Sequence[Mapping[str, Any]], finish_reason: str | None = None) -> str:
    """OpenAI chat messages as the GenAI conventions' ``gen_ai.*.messages`` JSON (roles and parts)."""
    out = []
    for message in messages:
        parts: list[dict[str, Any]] = []
        if message.get("role") == "tool":
            parts.append(
                {"type": "tool_call_response", "id": message.get("tool_call_id"), "response": message.get("content")}
            )
        elif message.get("content"):
            parts.append({"type": "text", "content": message["content"]})
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": function.get("name"),
                    "arguments": function.get("arguments"),
                }
            )
        entry: dict[str, Any] = {"role": message.get("role"), "parts": parts}
        if finish_reason:
            entry["finish_reason"] = finish_reason
        out.append(entry)
    return json.dumps(out, ensure_ascii=False)


class AgentTelemetry:
    """Spans and metrics of one evaluation run."""

    def __init__(self, telemetry: Telemetry, client: ModelClient, agent_name: str, capture_content: bool) -> None:
        self.client = client
        self.agent_name = agent_name
        self.capture_content = capture_content
        self.tracer = telemetry.tracer(SCOPE, __version__)
        meter = telemetry.meter(SCOPE, __version__)
        self.token_usage = meter.create_histogram(
            a.METRIC_TOKEN_USAGE,
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=a.TOKEN_USAGE_BUCKETS,
        )
        self.duration = meter.create_histogram(
            a.METRIC_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=a.OPERATION_DURATION_BUCKETS,
        )
        self.provider = provider_name(client.provider)
        self.run_span: Span | None = None
        self._open: set[TaskSpans] = set()
        self._lock = threading.Lock()

    def clean(self, value: Any) -> Any:
        """A redacted attribute value (strings and string sequences)."""
        if isinstance(value, str):
            return self.client.redact(value)
        if isinstance(value, list | tuple):
            return [self.client.redact(v) if isinstance(v, str) else v for v in value]
        return value

    def attributes(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """``values`` without ``None``s, strings redacted."""
        return {k: self.clean(v) for k, v in values.items() if v is not None}

    def set(self, span: Span, values: Mapping[str, Any]) -> None:
        span.set_attributes(self.attributes(values))

    def model_attributes(self) -> dict[str, Any]:
        return {
            a.GEN_AI_PROVIDER_NAME: self.provider,
            a.GEN_AI_REQUEST_MODEL: self.client.model_name,
            a.SERVER_ADDRESS: self.client.server_address,
            a.SERVER_PORT: self.client.server_port,
        }

    def start_run(self, config: Mapping[str, Any]) -> Span:
        values = {a.SCHEMA_VERSION_ATTR: a.SCHEMA_VERSION, a.HARNESS_VERSION: __version__, **self.model_attributes()}
        span = self.tracer.start_span(
            a.RUN_SPAN_NAME, context=Context(), kind=SpanKind.INTERNAL, attributes=self.attributes({**values, **config})
        )
        self.run_span = span
        return span

    def end_run(self, status: str, completed: int, error: str | None = None) -> None:
        if self.run_span is None:
            return
        self.set(self.run_span, {a.RUN_STATUS: status, a.RUN_COMPLETED_TASKS: completed, a.RUN_ERROR: error})
        if status != "completed":
            self.run_span.set_status(Status(StatusCode.ERROR, self.clean(error or status)))
        self.run_span.end()

    def start_task(self, task: Task, index: int) -> TaskSpans:
        spans = TaskSpans(self, task, index)
        with self._lock:
            self._open.add(spans)
        return spans

    def _closed(self, spans: TaskSpans) -> None:
        with self._lock:
            self._open.discard(spans)

    def abandon_open_tasks(self, stop_reason: str, message: str) -> int:
        """End every open task's spans now (interrupt or fatal error); returns how many tasks."""
        with self._lock:
            open_tasks = list(self._open)
        for spans in open_tasks:
            spans.abandon(stop_reason, message)
        return len(open_tasks)


class TaskSpans:
    """The spans of one task: the root, and the one chat or tool span open at a time."""

    def __init__(self, owner: AgentTelemetry, task: Task, index: int) -> None:
        self.owner = owner
        self._lock = threading.Lock()
        self._ended = False
        links = [Link(owner.run_span.get_span_context())] if owner.run_span is not None else []
        values = {
            a.SCHEMA_VERSION_ATTR: a.SCHEMA_VERSION,
            a.HARNESS_VERSION: __version__,
            a.GEN_AI_OPERATION_NAME: a.INVOKE_AGENT,
            a.GEN_AI_AGENT_NAME: owner.agent_name,
            **owner.model_attributes(),
            a.TASK_ID: task.id,
            a.TASK_INDEX: index,
            a.TASK_DIFFICULTY: task.difficulty,
            a.TASK_CATEGORY: task.category,
            a.TASK_AGENT_TYPE: task.agent_type,
            a.TASK_PROMPT: task.prompt,
            a.TASK_EXPECTED_TOOL: task.expected_tool,
            a.TASK_EXPECTED_TOOL_CALLS: task.expected_tool_calls,
            a.TASK_EXPECTED_ANSWER: task.expected_answer,
            a.TASK_EXPECTED_KEYWORDS: list(task.expected_keywords) or None,
        }
        self.root = owner.tracer.start_span(
            f"{a.INVOKE_AGENT} {owner.agent_name}",
            context=Context(),
            kind=SpanKind.INTERNAL,
            links=links,
            attributes=owner.attributes(values),
        )
        self._context = trace.set_span_in_context(self.root, Context())
        self._child: Span | None = None
        self._child_started = 0.0

    # --- children ----------------------------------------------------------------------------
    def _start_child(self, name: str, kind: SpanKind, values: Mapping[str, Any]) -> Span:
        """Start the task's one open child span (a no-op span once the task was abandoned)."""
        attributes = self.owner.attributes(values)
        with self._lock:
            if self._ended:
                return trace.INVALID_SPAN
            span = self.owner.tracer.start_span(name, context=self._context, kind=kind, attributes=attributes)
            self._child, self._child_started = span, time.monotonic()
        return span

    def _claim(self, span: Span) -> float | None:
        """Take ``span`` back to end it: its duration so far, or None when :meth:`abandon` ended it."""
        with self._lock:
            if self._child is not span:
                return None
            self._child = None
            return time.monotonic() - self._child_started

    def _end(self, span: Span, error_type: str | None = None, message: str | None = None) -> None:
        if error_type is not None:
            span.set_attribute(a.ERROR_TYPE, error_type)
            span.set_status(Status(StatusCode.ERROR, self.owner.clean(message or error_type)))
        span.end()

    def start_chat(self, step: int, messages: Sequence[Mapping[str, Any]]) -> Span:
        client = self.owner.client
        values: dict[str, Any] = {
            a.GEN_AI_OPERATION_NAME: a.CHAT,
            **self.owner.model_attributes(),
            a.CHAT_STEP: step,
            a.GEN_AI_REQUEST_TEMPERATURE: client.params.get("temperature"),
            a.GEN_AI_REQUEST_TOP_P: client.params.get("top_p"),
            a.GEN_AI_REQUEST_MAX_TOKENS: client.params.get("max_tokens"),
            a.GEN_AI_REQUEST_SEED: client.params.get("seed"),
        }
        if self.owner.capture_content:
            values[a.GEN_AI_INPUT_MESSAGES] = semconv_messages(messages)
        return self._start_child(f"{a.CHAT} {client.model_name}", SpanKind.CLIENT, values)

    def end_chat(self, span: Span, result: ChatResult) -> None:
        values: dict[str, Any] = {
            a.GEN_AI_RESPONSE_MODEL: result.response_model,
            a.GEN_AI_RESPONSE_ID: result.response_id,
            a.GEN_AI_RESPONSE_FINISH_REASONS: list(result.finish_reasons) or None,
            a.GEN_AI_USAGE_INPUT_TOKENS: result.input_tokens,
            a.GEN_AI_USAGE_OUTPUT_TOKENS: result.output_tokens,
            a.USAGE_COST_USD: result.cost_usd,
            a.CHAT_ATTEMPTS: result.attempts,
        }
        if self.owner.capture_content:
            finish = result.finish_reasons[0] if result.finish_reasons else None
            values[a.GEN_AI_OUTPUT_MESSAGES] = semconv_messages([result.assistant_message()], finish)
        duration = self._claim(span)
        if duration is None:
            return
        self.owner.set(span, values)
        self._record_metrics(duration, result.response_model, result.input_tokens, result.output_tokens, None)
        self._end(span)

    def fail_chat(self, span: Span, error_type: str, message: str, attempts: int) -> None:
        duration = self._claim(span)
        if duration is None:
            return
        span.set_attribute(a.CHAT_ATTEMPTS, attempts)
        self._record_metrics(duration, None, None, None, error_type)
        self._end(span, error_type, message)

    def _record_metrics(
        self,
        duration: float,
        response_model: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        error_type: str | None,
    ) -> None:
        base = {
            a.GEN_AI_OPERATION_NAME: a.CHAT,
            a.GEN_AI_PROVIDER_NAME: self.owner.provider,
            a.GEN_AI_REQUEST_MODEL: self.owner.client.model_name,
        }
        if self.owner.client.server_address:
            base[a.SERVER_ADDRESS] = self.owner.client.server_address
        if response_model:
            base[a.GEN_AI_RESPONSE_MODEL] = response_model
        self.owner.duration.record(duration, {**base, a.ERROR_TYPE: error_type} if error_type else base)
        for token_type, count in (("input", input_tokens), ("output", output_tokens)):
            if count is not None:
                self.owner.token_usage.record(count, {**base, a.GEN_AI_TOKEN_TYPE: token_type})

    def start_tool(self, call: ToolCallRequest) -> Span:
        values: dict[str, Any] = {
            a.GEN_AI_OPERATION_NAME: a.EXECUTE_TOOL,
            a.GEN_AI_TOOL_NAME: call.name,
            a.GEN_AI_TOOL_CALL_ID: call.id,
            a.GEN_AI_TOOL_TYPE: "function",
        }
        if self.owner.capture_content:
            values[a.GEN_AI_TOOL_CALL_ARGUMENTS] = call.arguments
        return self._start_child(f"{a.EXECUTE_TOOL} {call.name}", SpanKind.INTERNAL, values)

    def end_tool(self, span: Span, result: str, error_type: str | None = None) -> None:
        if self._claim(span) is None:
            return
        if self.owner.capture_content:
            self.owner.set(span, {a.GEN_AI_TOOL_CALL_RESULT: result})
        self._end(span, error_type, result if error_type else None)

    # --- the end of the task -------------------------------------------------------------------
    def finish(
        self,
        values: Mapping[str, Any],
        score: Score,
        stop_reason: str,
        error: str | None,
        error_type: str | None = None,
    ) -> None:
        """Record the outcome and scores on the root span and end it (once)."""
        with self._lock:
            if self._ended:
                return
            self._ended = True
        scores = {attr: getattr(score, name) for name, attr in SCORE_FIELDS}
        outcome = {a.TASK_STOP_REASON: stop_reason, a.TASK_ERROR: error, a.SCORE_RULE: score.rule}
        self.owner.set(self.root, {**values, **outcome, **scores})
        for name, _attr in SCORE_FIELDS:
            value = getattr(score, name)
            if value is None:
                continue
            event = {
                a.GEN_AI_EVALUATION_NAME: name,
                a.GEN_AI_EVALUATION_SCORE_VALUE: 1.0 if value else 0.0,
                a.GEN_AI_EVALUATION_SCORE_LABEL: "pass" if value else "fail",
            }
            if name in ("success", "response_correct"):
                event[a.GEN_AI_EVALUATION_EXPLANATION] = self.owner.clean(score.explanation)
            self.root.add_event(a.EVALUATION_EVENT, event)
        if stop_reason in (ERROR, TIMEOUT, INTERRUPTED):
            self.root.set_attribute(a.ERROR_TYPE, error_type if stop_reason == ERROR and error_type else stop_reason)
            self.root.set_status(Status(StatusCode.ERROR, self.owner.clean(error or stop_reason)))
        self.root.end()
        self.owner._closed(self)

    def abandon(self, stop_reason: str, message: str) -> None:
        """End the open child and the root now, marked ``stop_reason`` (from another thread)."""
        with self._lock:
            child, self._child = self._child, None
            if self._ended:
                return
            self._ended = True
        if child is not None:
            child.set_attribute(a.ERROR_TYPE, stop_reason)
            child.set_status(Status(StatusCode.ERROR, self.owner.clean(message)))
            child.end()
        self.owner.set(
            self.root,
            {a.TASK_STOP_REASON: stop_reason, a.TASK_ERROR: message, a.ERROR_TYPE: stop_reason, a.SCORE_SUCCESS: False},
        )
        self.root.set_status(Status(StatusCode.ERROR, self.owner.clean(message)))
        self.root.end()
        self.owner._closed(self)
