"""One task: the tool-calling loop, from the prompt to a scored result.

Each step is one model call. The model may answer with tool calls (each runs, in order,
and its result or error goes back to the model), with ``final_answer`` (the task ends;
calls after it in the same message are ignored), or with plain text and no tool call:
the text is taken as the final answer and the task ends, with
``final_answer_called=false`` (see ``scoring.py``; small local models often answer so).
An empty reply without tool calls uses a step and asks again.

Tool errors (wrong arguments, an unknown tool, a tool that raises or outlives
``--tool-timeout``) are reported to the model as the tool's result and the loop goes on.
The loop stops at ``--max-steps`` model calls, when the task's time (``--task-timeout``)
runs out, when a model call fails after its retries, or when the run is stopping.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from agent import scoring
from agent.model_client import Cancelled, ChatResult, ModelAuthError, ModelCallError, ModelClient, ToolCallRequest
from agent.scoring import Outcome, Score
from agent.settings import LoopSettings
from agent.spans import AgentTelemetry, TaskSpans
from agent.tasks import Task
from agent.tools import FINAL_ANSWER, Toolbox, ToolTimeoutError, final_answer_text
from smoltrace_otel import attributes as a

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are an assistant that solves tasks with tools. Call the tools to look up facts or to "
    "compute; do not guess values a tool can give. When you know the answer, call final_answer "
    "with the answer alone: a number, a word or a short phrase."
)
EMPTY_REPLY_NUDGE = "Please call a tool, or call final_answer with your answer."


@dataclass
class RunControl:
    """Shared by the workers: set when the run must stop, with the stop reason tasks get."""

    event: threading.Event = field(default_factory=threading.Event)
    reason: str = scoring.INTERRUPTED
    message: str = "run interrupted"

    def stop(self, reason: str, message: str) -> None:
        if not self.event.is_set():
            self.reason, self.message = reason, message
            self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()


@dataclass(frozen=True)
class TaskResult:
    task: Task
    index: int
    outcome: Outcome
    score: Score
    steps: int
    error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    duration_s: float


@dataclass
class _State:
    messages: list[dict[str, Any]]
    deadline: float
    steps: int = 0
    tools_called: list[str] = field(default_factory=list)
    final_answer: str | None = None
    final_answer_called: bool = False
    stop_reason: str | None = None
    error: str | None = None
    error_type: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0

    def stop(self, reason: str, error: str | None = None, error_type: str | None = None) -> None:
        self.stop_reason, self.error, self.error_type = reason, error, error_type

    def add_usage(self, result: ChatResult) -> None:
        self.input_tokens += result.input_tokens or 0
        self.output_tokens += result.output_tokens or 0
        if result.cost_usd is None or self.cost_usd is None:
            self.cost_usd = None
        else:
            self.cost_usd += result.cost_usd


@dataclass(frozen=True)
class LoopContext:
    """What every task of a run shares."""

    client: ModelClient
    toolbox: Toolbox
    settings: LoopSettings
    telemetry: AgentTelemetry
    control: RunControl


def run_task(task: Task, index: int, ctx: LoopContext) -> TaskResult:
    """Run one task to its end and score it; raises ModelAuthError (after ending its spans)."""
    started = time.monotonic()
    spans = ctx.telemetry.start_task(task, index)
    state = _State(
        messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": task.prompt}],
        deadline=started + ctx.settings.task_timeout_s,
    )
    fatal: ModelAuthError | None = None
    try:
        _loop(state, spans, ctx)
    except ModelAuthError as error:
        fatal = error
        state.stop(scoring.ERROR, ctx.client.redact(str(error)), type(error).__name__)
    except Exception as error:  # a harness bug ends this task as an error, not the run
        logger.exception("task %s failed inside the harness", task.id)
        state.stop(scoring.ERROR, ctx.client.redact(f"{type(error).__name__}: {error}"), type(error).__name__)
    outcome = Outcome(
        tuple(state.tools_called), state.final_answer_called, state.final_answer, state.stop_reason or scoring.ERROR
    )
    score = scoring.score(task, outcome)
    spans.finish(
        {
            a.TASK_FINAL_ANSWER: state.final_answer,
            a.TASK_STEPS: state.steps,
            a.TASK_TOOLS_USED: list(state.tools_called),
        },
        score,
        outcome.stop_reason,
        state.error,
        state.error_type,
    )
    if fatal is not None:
        raise fatal
    return TaskResult(
        task=task,
        index=index,
        outcome=outcome,
        score=score,
        steps=state.steps,
        error=state.error,
        input_tokens=state.input_tokens,
        output_tokens=state.output_tokens,
        cost_usd=state.cost_usd,
        duration_s=time.monotonic() - started,
    )


def _loop(state: _State, spans: TaskSpans, ctx: LoopContext) -> None:
    tools = ctx.toolbox.schemas()
    while state.stop_reason is None:
        if ctx.control.stopped:
            state.stop(ctx.control.reason, ctx.control.message)
        elif state.steps >= ctx.settings.max_steps:
            state.stop(scoring.MAX_STEPS)
        elif time.monotonic() >= state.deadline:
            state.stop(scoring.TIMEOUT, f"task took longer than {ctx.settings.task_timeout_s:g} s")
        else:
            state.steps += 1
            result = _chat(state, spans, ctx, tools)
            if result is not None:
                _handle_reply(result, state, spans, ctx)


def _chat(state: _State, spans: TaskSpans, ctx: LoopContext, tools: list[dict[str, Any]]) -> ChatResult | None:
    span = spans.start_chat(state.steps, state.messages)
    try:
        result = ctx.client.complete(state.messages, tools, state.deadline)
    except ModelCallError as error:
        spans.fail_chat(span, error.error_type, str(error), error.attempts)
        state.stop(scoring.TIMEOUT if error.timed_out else scoring.ERROR, str(error), error.error_type)
        return None
    except Cancelled:
        spans.fail_chat(span, ctx.control.reason, ctx.control.message, 0)
        state.stop(ctx.control.reason, ctx.control.message)
        return None
    except ModelAuthError as error:
        spans.fail_chat(span, type(error).__name__, str(error), 1)
        raise
    spans.end_chat(span, result)
    state.add_usage(result)
    state.messages.append(ctx.client.history_message(result))
    return result


def _handle_reply(result: ChatResult, state: _State, spans: TaskSpans, ctx: LoopContext) -> None:
    if not result.tool_calls:
        if result.content and result.content.strip():
            state.final_answer = result.content.strip()
            state.stop(scoring.FINAL_ANSWER)
        else:
            state.messages.append({"role": "user", "content": EMPTY_REPLY_NUDGE})
        return
    for call in result.tool_calls:
        if call.name == FINAL_ANSWER:
            if _final_answer(call, state, spans, ctx):
                return
            continue
        if ctx.toolbox.get(call.name) is not None:
            state.tools_called.append(call.name)
        output = _execute(call, state, spans, ctx)
        state.messages.append(ctx.client.tool_result_message(call.id, call.name, output))


def _final_answer(call: ToolCallRequest, state: _State, spans: TaskSpans, ctx: LoopContext) -> bool:
    span = spans.start_tool(call)
    try:
        answer = final_answer_text(call.arguments)
    except ValueError as error:
        message = f"error: {error}"
        spans.end_tool(span, message, type(error).__name__)
        state.messages.append(ctx.client.tool_result_message(call.id, call.name, message))
        return False
    spans.end_tool(span, answer)
    state.final_answer, state.final_answer_called = answer, True
    state.stop(scoring.FINAL_ANSWER)
    return True


def _execute(call: ToolCallRequest, state: _State, spans: TaskSpans, ctx: LoopContext) -> str:
    """Run one tool call; its result, or an error text for the model."""
    span = spans.start_tool(call)
    tool = ctx.toolbox.get(call.name)
    remaining = state.deadline - time.monotonic()
    try:
        if tool is None:
            available = ", ".join(ctx.toolbox.names)
            raise LookupError(f"unknown tool {call.name!r}; available tools: {available}")
        arguments = tool.check_arguments(call.arguments)
        if remaining <= 0:
            raise ToolTimeoutError("the task's time ran out")
        output = tool.call(arguments, min(ctx.settings.tool_timeout_s, remaining))
    except Exception as error:
        message = ctx.client.redact(f"error: {error}")
        spans.end_tool(span, message, type(error).__name__)
        return message
    spans.end_tool(span, output)
    return output
