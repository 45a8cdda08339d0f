"""A sample evaluation run to go with sample GPU metrics: the spans the agent would write.

The names are the agent<->publisher contract's (:mod:`smoltrace_otel.attributes`): a
``smoltrace.run`` span over the whole run (its own trace), and for each task a trace rooted
at ``invoke_agent {agent}`` carrying ``smoltrace.task.*`` and ``smoltrace.score.*``
attributes and ``gen_ai.evaluation.result`` events, with ``chat {model}`` children (token
usage) and ``execute_tool {tool}`` children. Tasks run one after another while the GPUs
are busy. Outcomes, steps, token counts and ids come from generators seeded by the seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from gpu_sidecar.otlp_encode import Scope, SpanEvent, SpanRecord, resource_spans
from smoltrace_otel import attributes as A
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE
from smoltrace_otel.telemetry import HOST_NAME_ATTRIBUTE, SERVICE_NAME_ATTRIBUTE

AGENT_NAME = "smoltrace-tool-agent"
AGENT_SERVICE_NAME = "smoltrace-agent"
AGENT_SCOPE = "smoltrace.agent"
DATASET = "smoltrace/sample-tasks"
MAX_STEPS = 4
SUCCESS_RATE = 0.7
SERVER_ADDRESS = "127.0.0.1"
SERVER_PORT = 8000
PROVIDER = "hosted_vllm"
SCORE_FIELDS = (
    ("tool_called", A.SCORE_TOOL_CALLED),
    ("correct_tool", A.SCORE_CORRECT_TOOL),
    ("final_answer_called", A.SCORE_FINAL_ANSWER_CALLED),
    ("response_correct", A.SCORE_RESPONSE_CORRECT),
    ("success", A.SCORE_SUCCESS),
)


@dataclass(frozen=True)
class SampleTask:
    id: str
    category: str
    difficulty: str
    prompt: str
    tool: str
    answer: str


SAMPLE_TASKS = (
    SampleTask("calc_multiply", "arithmetic", "easy", "What is 234 multiplied by 67?", "calculator", "15678"),
    SampleTask("capital_japan", "lookup", "easy", "What is the capital of Japan?", "country_info", "Tokyo"),
    SampleTask(
        "convert_km_miles", "units", "easy", "Convert 10 kilometers to miles, to 2 decimals.", "convert_units", "6.21"
    ),
    SampleTask("days_jan_mar", "dates", "medium", "How many days from 2024-01-01 to 2024-03-01?", "days_between", "60"),
    SampleTask("calc_expression", "arithmetic", "medium", "Compute (17 + 25) * 3 - 12 / 4.", "calculator", "123"),
    SampleTask(
        "marathon_miles",
        "units",
        "hard",
        "A marathon is 42.195 km. How long in miles, to 1 decimal?",
        "convert_units",
        "26.2",
    ),
)


@dataclass(frozen=True)
class SampleRunSettings:
    run_id: str
    seed: int
    tasks: int
    model: str
    host_name: str
    start_ns: int
    end_ns: int
    busy: tuple[int, int]
    """When the GPUs are loaded (ns): the tasks run within it."""
    harness_version: str


@dataclass
class SampleRun:
    """The spans, grouped by trace (tasks first, the run span's trace last), and their totals."""

    traces: list[list[SpanRecord]] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    successful: int = 0
    tasks: int = 0

    @property
    def span_count(self) -> int:
        return sum(len(trace) for trace in self.traces)

    def documents(self, settings: SampleRunSettings) -> list[dict[str, Any]]:
        """One ``resourceSpans`` export per trace."""
        resource = {
            SERVICE_NAME_ATTRIBUTE: AGENT_SERVICE_NAME,
            HOST_NAME_ATTRIBUTE: settings.host_name,
            RUN_ID_ATTRIBUTE: settings.run_id,
        }
        scope = Scope(AGENT_SCOPE, settings.harness_version)
        return [{"resourceSpans": [resource_spans(resource, scope, trace)]} for trace in self.traces]


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def trace(self) -> str:
        return f"{self.rng.getrandbits(128) | 1:032x}"

    def span(self) -> str:
        return f"{self.rng.getrandbits(64) | 1:016x}"


def sample_run(settings: SampleRunSettings) -> SampleRun:
    """The run span and ``settings.tasks`` task traces."""
    rng = random.Random(f"{settings.seed}:run")
    ids = _Ids(rng)
    run = SampleRun()
    run_trace, run_span_id = ids.trace(), ids.span()
    busy_start, busy_end = settings.busy
    slot = (busy_end - busy_start) // settings.tasks
    for index in range(settings.tasks):
        task = SAMPLE_TASKS[index % len(SAMPLE_TASKS)]
        task_id = task.id if index < len(SAMPLE_TASKS) else f"{task.id}_{index // len(SAMPLE_TASKS) + 1}"
        begin = busy_start + index * slot + round(slot * rng.uniform(0.02, 0.08))
        length = round(slot * rng.uniform(0.6, 0.9))
        run.traces.append(
            _task_trace(
                settings, rng, ids, (run_trace, run_span_id), task=task, task_id=task_id, begin=begin, length=length
            )
        )
        root = run.traces[-1][0]
        run.tasks += 1
        run.successful += root.attributes[A.SCORE_SUCCESS] is True
        for span in run.traces[-1]:
            run.input_tokens += span.attributes.get(A.GEN_AI_USAGE_INPUT_TOKENS, 0)
            run.output_tokens += span.attributes.get(A.GEN_AI_USAGE_OUTPUT_TOKENS, 0)
    run_attributes = {
        A.SCHEMA_VERSION_ATTR: A.SCHEMA_VERSION,
        A.HARNESS_VERSION: settings.harness_version,
        **_model_attributes(settings),
        A.RUN_MODEL: settings.model,
        A.RUN_PROVIDER: "litellm",
        A.RUN_AGENT_TYPE: "tool",
        A.RUN_DATASET: DATASET,
        A.RUN_PLANNED_TASKS: settings.tasks,
        A.RUN_MAX_STEPS: MAX_STEPS,
        A.RUN_PARALLEL_WORKERS: 1,
        A.RUN_STATUS: "completed",
        A.RUN_COMPLETED_TASKS: settings.tasks,
    }
    run.traces.append(
        [
            SpanRecord(
                run_trace,
                run_span_id,
                None,
                A.RUN_SPAN_NAME,
                "internal",
                settings.start_ns,
                settings.end_ns,
                run_attributes,
            )
        ]
    )
    return run


def _model_attributes(settings: SampleRunSettings) -> dict[str, Any]:
    return {
        A.GEN_AI_PROVIDER_NAME: PROVIDER,
        A.GEN_AI_REQUEST_MODEL: settings.model,
        A.SERVER_ADDRESS: SERVER_ADDRESS,
        A.SERVER_PORT: SERVER_PORT,
    }


@dataclass(frozen=True)
class _Outcome:
    steps: int
    tool_calls: int
    final_answer: bool
    correct: bool

    @property
    def scores(self) -> dict[str, bool]:
        return {
            "tool_called": self.tool_calls > 0,
            "correct_tool": self.tool_calls > 0,
            "final_answer_called": self.final_answer,
            "response_correct": self.correct,
            "success": self.correct and self.tool_calls > 0,
        }


def _outcome(rng: random.Random) -> _Outcome:
    if rng.random() < SUCCESS_RATE:
        steps = rng.choice((2, 2, 3))
        return _Outcome(steps, steps - 1, True, True)
    return rng.choice(
        (
            _Outcome(1, 0, True, False),  # answered without calling the tool
            _Outcome(2, 1, True, False),  # called the tool, then answered wrongly
            _Outcome(MAX_STEPS, MAX_STEPS, False, False),  # kept calling tools until max_steps
        )
    )


def _task_trace(
    settings: SampleRunSettings,
    rng: random.Random,
    ids: _Ids,
    run_span: tuple[str, str],
    *,
    task: SampleTask,
    task_id: str,
    begin: int,
    length: int,
) -> list[SpanRecord]:
    outcome = _outcome(rng)
    trace_id, root_id = ids.trace(), ids.span()
    children: list[SpanRecord] = []
    # Chats take most of the time, in proportion to their output; tool calls are quick.
    outputs = [rng.randint(15, 60) for _ in range(outcome.steps - 1)] + [rng.randint(20, 120)]
    tool_ns = round(length * 0.03)
    chat_time = length - tool_ns * outcome.tool_calls
    cursor, history = begin, rng.randint(380, 520)
    for step, output in enumerate(outputs, start=1):
        duration = chat_time * output // sum(outputs)
        chat_attributes = {
            A.GEN_AI_OPERATION_NAME: A.CHAT,
            **_model_attributes(settings),
            A.CHAT_STEP: step,
            A.GEN_AI_REQUEST_TEMPERATURE: 0.0,
            A.GEN_AI_RESPONSE_MODEL: settings.model,
            A.GEN_AI_RESPONSE_ID: f"chatcmpl-{ids.span()}",
            A.GEN_AI_RESPONSE_FINISH_REASONS: ["tool_calls" if step <= outcome.tool_calls else "stop"],
            A.GEN_AI_USAGE_INPUT_TOKENS: history,
            A.GEN_AI_USAGE_OUTPUT_TOKENS: output,
            A.CHAT_ATTEMPTS: 1,
        }
        name = f"{A.CHAT} {settings.model}"
        children.append(
            SpanRecord(trace_id, ids.span(), root_id, name, "client", cursor, cursor + duration, chat_attributes)
        )
        cursor += duration
        history += output + rng.randint(20, 80)
        if step <= outcome.tool_calls:
            tool_attributes = {
                A.GEN_AI_OPERATION_NAME: A.EXECUTE_TOOL,
                A.GEN_AI_TOOL_NAME: task.tool,
                A.GEN_AI_TOOL_CALL_ID: f"call_{ids.span()[:12]}",
                A.GEN_AI_TOOL_TYPE: "function",
            }
            name = f"{A.EXECUTE_TOOL} {task.tool}"
            children.append(
                SpanRecord(trace_id, ids.span(), root_id, name, "internal", cursor, cursor + tool_ns, tool_attributes)
            )
            cursor += tool_ns
    scores = outcome.scores
    end = begin + length
    root_attributes = {
        A.SCHEMA_VERSION_ATTR: A.SCHEMA_VERSION,
        A.HARNESS_VERSION: settings.harness_version,
        A.GEN_AI_OPERATION_NAME: A.INVOKE_AGENT,
        A.GEN_AI_AGENT_NAME: AGENT_NAME,
        **_model_attributes(settings),
        A.TASK_ID: task_id,
        A.TASK_DIFFICULTY: task.difficulty,
        A.TASK_CATEGORY: task.category,
        A.TASK_AGENT_TYPE: "tool",
        A.TASK_PROMPT: task.prompt,
        A.TASK_EXPECTED_TOOL: task.tool,
        A.TASK_EXPECTED_ANSWER: task.answer,
        A.TASK_STEPS: outcome.steps,
        A.TASK_STOP_REASON: "final_answer" if outcome.final_answer else "max_steps",
        A.SCORE_RULE: "expected_answer",
        **{attribute: scores[name] for name, attribute in SCORE_FIELDS},
    }
    if outcome.final_answer:
        root_attributes[A.TASK_FINAL_ANSWER] = task.answer if outcome.correct else "I am not sure."
    events = [
        SpanEvent(
            A.EVALUATION_EVENT,
            end,
            {
                A.GEN_AI_EVALUATION_NAME: name,
                A.GEN_AI_EVALUATION_SCORE_VALUE: 1.0 if scores[name] else 0.0,
                A.GEN_AI_EVALUATION_SCORE_LABEL: "pass" if scores[name] else "fail",
            },
        )
        for name, _attribute in SCORE_FIELDS
    ]
    root = SpanRecord(
        trace_id,
        root_id,
        None,
        f"{A.INVOKE_AGENT} {AGENT_NAME}",
        "internal",
        begin,
        end,
        root_attributes,
        events=events,
        links=[run_span],
    )
    return [root, *children]
