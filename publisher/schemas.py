"""Pinned Parquet schemas of the four published tables, with a description of every column.

Rules: every table has a ``schema_version`` column; a schema evolves only by adding
nullable columns at the end (and bumping ``PUBLISHED_SCHEMA_VERSION``), never by renaming,
retyping or removing one, so the files of all runs concatenate under the newest schema
(the Hub viewer needs one schema per split). Raw OTLP content is kept as JSON text.

``python -m publisher.schemas`` prints the Markdown tables that docs/publisher.md carries
(a test checks that they match).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

PUBLISHED_SCHEMA_VERSION = "1"
TIMESTAMP = pa.timestamp("us", tz="UTC")
"""Microseconds, so every reader converts them to datetimes; exact nanoseconds are in the ``*_unix_nano`` columns."""


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True


RESULTS_COLUMNS = (
    Column("schema_version", pa.string(), "version of this table's schema", False),
    Column("run_id", pa.string(), "the run (resource attribute `run.id`)", False),
    Column("task_id", pa.string(), "`smoltrace.task.id`"),
    Column("agent_type", pa.string(), "`smoltrace.task.agent_type` (else the run's)"),
    Column("agent_name", pa.string(), "`gen_ai.agent.name`"),
    Column("model", pa.string(), "model most used by the task's `chat` spans (else the run's model)"),
    Column("difficulty", pa.string(), "`smoltrace.task.difficulty`"),
    Column("category", pa.string(), "`smoltrace.task.category`"),
    Column("prompt", pa.string(), "`smoltrace.task.prompt`"),
    Column("expected_tool", pa.string(), "`smoltrace.task.expected_tool`"),
    Column("expected_answer", pa.string(), "`smoltrace.task.expected_answer`"),
    Column("response", pa.string(), "the agent's final answer (`smoltrace.task.final_answer`)"),
    Column("success", pa.bool_(), "`smoltrace.score.success`"),
    Column("tool_called", pa.bool_(), "`smoltrace.score.tool_called`"),
    Column("correct_tool", pa.bool_(), "`smoltrace.score.correct_tool`"),
    Column("final_answer_called", pa.bool_(), "`smoltrace.score.final_answer_called`"),
    Column("response_correct", pa.bool_(), "`smoltrace.score.response_correct`"),
    Column("score_rule", pa.string(), "rule that decided `response_correct` (`smoltrace.score.rule`)"),
    Column("evaluation_name", pa.string(), "`gen_ai.evaluation.name` of the task's `gen_ai.evaluation.result` event"),
    Column("evaluation_score", pa.float64(), "`gen_ai.evaluation.score.value` of that event"),
    Column("evaluation_label", pa.string(), "`gen_ai.evaluation.score.label` of that event"),
    Column("stop_reason", pa.string(), "`final_answer`, `max_steps`, `timeout`, `error` or `interrupted`"),
    Column("error", pa.string(), "`smoltrace.task.error`, else the root span's error status message"),
    Column("steps", pa.int64(), "`smoltrace.task.steps`"),
    Column("llm_calls", pa.int64(), "number of `chat` spans in the task's trace", False),
    Column("tool_calls", pa.int64(), "number of `execute_tool` spans in the task's trace", False),
    Column("tools_used", pa.list_(pa.string()), "distinct `gen_ai.tool.name` values, sorted", False),
    Column(
        "prompt_tokens",
        pa.int64(),
        "sum of `gen_ai.usage.input_tokens` over the task's `chat` spans; null if none reported",
    ),
    Column("completion_tokens", pa.int64(), "sum of `gen_ai.usage.output_tokens`; null if none reported"),
    Column("total_tokens", pa.int64(), "prompt_tokens + completion_tokens; null if neither was reported"),
    Column("cost_usd", pa.float64(), "sum of `smoltrace.usage.cost_usd`; null when no `chat` span had a cost"),
    Column("duration_ms", pa.float64(), "the task root span's own duration", False),
    Column("start_time_unix_nano", pa.int64(), "root span start", False),
    Column("end_time_unix_nano", pa.int64(), "root span end", False),
    Column("status_code", pa.string(), "root span status: `unset`, `ok` or `error`", False),
    Column("trace_id", pa.string(), "task trace id (lower-case hex)"),
    Column("span_id", pa.string(), "task root span id (lower-case hex)"),
    Column("service_name", pa.string(), "resource `service.name`"),
    Column("host_name", pa.string(), "resource `host.name`"),
)

TRACES_COLUMNS = (
    Column("schema_version", pa.string(), "version of this table's schema", False),
    Column("run_id", pa.string(), "the run", False),
    Column("trace_id", pa.string(), "lower-case hex; null for a span exported without ids"),
    Column("span_id", pa.string(), "lower-case hex"),
    Column("parent_span_id", pa.string(), "null for a root span (missing or empty `parentSpanId`)"),
    Column("name", pa.string(), "span name", False),
    Column("kind", pa.string(), "`unspecified`, `internal`, `server`, `client`, `producer` or `consumer`", False),
    Column("start_time", TIMESTAMP, "span start (UTC)", False),
    Column("end_time", TIMESTAMP, "span end (UTC)", False),
    Column("start_time_unix_nano", pa.int64(), "span start, ns since the epoch", False),
    Column("end_time_unix_nano", pa.int64(), "span end, ns since the epoch", False),
    Column("duration_ms", pa.float64(), "end - start", False),
    Column("status_code", pa.string(), "`unset`, `ok` or `error`", False),
    Column("status_message", pa.string(), "status description"),
    Column("attributes", pa.string(), "span attributes as a JSON object", False),
    Column("events", pa.string(), "JSON list of `{name, time_unix_nano, attributes}`", False),
    Column("links", pa.string(), "JSON list of `{trace_id, span_id, attributes}`", False),
    Column("resource_attributes", pa.string(), "resource attributes as a JSON object", False),
    Column("scope_name", pa.string(), "instrumentation scope"),
    Column("scope_version", pa.string(), "instrumentation scope version"),
    Column("service_name", pa.string(), "resource `service.name`"),
)

METRICS_COLUMNS = (
    Column("schema_version", pa.string(), "version of this table's schema", False),
    Column("run_id", pa.string(), "the run (also set on points joined from `unassigned/`)", False),
    Column("timestamp", TIMESTAMP, "`timeUnixNano` (UTC)", False),
    Column("time_unix_nano", pa.int64(), "ns since the epoch", False),
    Column("start_time_unix_nano", pa.int64(), "`startTimeUnixNano` (0 when absent)", False),
    Column("metric", pa.string(), "metric name (`hw.*` or `gen_ai.gpu.*`)", False),
    Column("unit", pa.string(), "unit as reported", False),
    Column("value", pa.float64(), "value as reported; null for NaN"),
    Column(
        "quantity",
        pa.string(),
        "`utilization`, `memory_used`, `memory_total`, `memory_utilization`, `power`, `energy`, `temperature`, `errors` or `status`",
        False,
    ),
    Column("canonical_value", pa.float64(), "value in the quantity's canonical unit; null for NaN or an unknown unit"),
    Column("canonical_unit", pa.string(), "`%`, `MiB`, `W`, `J`, `Cel`, `{error}` or `1`", False),
    Column("kind", pa.string(), "`gauge` or `sum`", False),
    Column("temporality", pa.string(), "`delta` or `cumulative` for sums, null for gauges"),
    Column("gpu_id", pa.string(), "`hw.id` or `gpu_id`", False),
    Column("gpu_name", pa.string(), "GPU model: `hw.model`, else `gpu_name`, else `hw.name`"),
    Column("host_name", pa.string(), "resource `host.name`"),
    Column("service_name", pa.string(), "resource `service.name`"),
    Column("source", pa.string(), "`run` (the run's own directory) or `unassigned` (joined by host and time)", False),
    Column("attributes", pa.string(), "data point attributes as a JSON object", False),
)

LEADERBOARD_COLUMNS = (
    Column("schema_version", pa.string(), "version of this table's schema", False),
    Column("run_id", pa.string(), "the run", False),
    Column("model", pa.string(), "model evaluated", False),
    Column("agent_type", pa.string(), "`tool`, `code` or `both`", False),
    Column("provider", pa.string(), "provider (`litellm` by default)", False),
    Column("submitted_by", pa.string(), "Hub user who published (null locally)"),
    Column("timestamp", TIMESTAMP, "run start (UTC)"),
    Column("run_status", pa.string(), "`completed`, `partial` or `failed` (see docs/publisher.md)", False),
    Column("dataset_used", pa.string(), "task set (`smoltrace.run.dataset`)"),
    Column("dataset_revision", pa.string(), "task set revision"),
    Column("results_dataset", pa.string(), "where the results rows are (local path or Hub repo)"),
    Column("traces_dataset", pa.string(), "where the trace rows are"),
    Column("metrics_dataset", pa.string(), "where the GPU metrics are"),
    Column("results_commit", pa.string(), "Hub commit holding the results file (null locally)"),
    Column("traces_commit", pa.string(), "Hub commit holding the traces file (null locally)"),
    Column("metrics_commit", pa.string(), "Hub commit holding the metrics files (null locally)"),
    Column("planned_tests", pa.int64(), "`smoltrace.run.planned_tasks`"),
    Column("total_tests", pa.int64(), "scored tasks (tasks stopped as `interrupted` are not scored)", False),
    Column("successful_tests", pa.int64(), "scored tasks with `success` true", False),
    Column("failed_tests", pa.int64(), "total_tests - successful_tests", False),
    Column("interrupted_tests", pa.int64(), "tasks stopped as `interrupted`", False),
    Column("timed_out_tests", pa.int64(), "stop_reason `timeout`", False),
    Column("max_steps_tests", pa.int64(), "stop_reason `max_steps`", False),
    Column("errored_tests", pa.int64(), "stop_reason `error`", False),
    Column("success_rate", pa.float64(), "successful_tests / total_tests in percent; null without scored tasks"),
    Column(
        "pass_at_1",
        pa.float64(),
        "mean over task ids of each id's success fraction, in percent; null without scored tasks",
    ),
    Column("avg_steps", pa.float64(), "mean `steps` over scored tasks that report it"),
    Column("avg_duration_ms", pa.float64(), "mean task duration over scored tasks"),
    Column("total_duration_ms", pa.float64(), "sum of task durations"),
    Column("total_prompt_tokens", pa.int64(), "sum over results rows; null when no row reported tokens"),
    Column("total_completion_tokens", pa.int64(), "sum over results rows"),
    Column("total_tokens", pa.int64(), "sum over results rows"),
    Column("avg_tokens_per_test", pa.float64(), "total_tokens / number of rows reporting tokens"),
    Column("total_cost_usd", pa.float64(), "sum over results rows; null when no row had a cost"),
    Column("avg_cost_per_test_usd", pa.float64(), "total_cost_usd / number of rows with a cost"),
    Column("total_spans", pa.int64(), "spans in the run (after deduplication)"),
    Column("error_spans", pa.int64(), "spans with status `error`"),
    Column("hardware", pa.string(), "GPU label, e.g. `2x NVIDIA H100 80GB HBM3`; null without GPU data"),
    Column("gpu_count", pa.int64(), "GPUs with data in the run"),
    Column("gpu_utilization_avg", pa.float64(), "% (mean over GPUs and time)"),
    Column("gpu_utilization_max", pa.float64(), "% (highest any GPU reached)"),
    Column("gpu_memory_avg_mib", pa.float64(), "MiB, summed across GPUs per instant, mean over time"),
    Column("gpu_memory_max_mib", pa.float64(), "MiB, summed across GPUs per instant, max over time"),
    Column("gpu_temperature_avg", pa.float64(), "Cel (mean over GPUs and time)"),
    Column("gpu_temperature_max", pa.float64(), "Cel (hottest any GPU got)"),
    Column("gpu_power_avg_w", pa.float64(), "W, summed across GPUs per instant, mean over time"),
    Column("gpu_power_max_w", pa.float64(), "W, summed across GPUs per instant, max over time"),
    Column("energy_wh", pa.float64(), "GPU energy over the run in Wh, summed across GPUs; null if not measured"),
    Column("energy_source", pa.string(), "`hw.energy` (counter) or `<power metric> (integrated)`"),
    Column("co2_emissions_g", pa.float64(), "gCO2e = energy x grid intensity x PUE; null if energy was not measured"),
    Column("grid_intensity_g_per_kwh", pa.float64(), "grid intensity used for CO2", False),
    Column("pue", pa.float64(), "PUE used for CO2", False),
    Column("notes", pa.string(), "how the row was made (counts of skipped lines, joined points)"),
)

TABLES = {
    "results": RESULTS_COLUMNS,
    "traces": TRACES_COLUMNS,
    "metrics": METRICS_COLUMNS,
    "leaderboard": LEADERBOARD_COLUMNS,
}


_MOSTLY_UNIQUE = {
    "traces": {
        "trace_id", "span_id", "parent_span_id", "start_time", "end_time", "start_time_unix_nano",
        "end_time_unix_nano", "duration_ms", "attributes", "events", "links",
    },
    "metrics": {"timestamp", "time_unix_nano", "value", "canonical_value"},
}  # fmt: skip


def dictionary_columns(table: str) -> list[str]:
    """Columns worth dictionary-encoding in Parquet (repeated values); mostly-unique ones are not."""
    unique = _MOSTLY_UNIQUE.get(table, set())
    return [c.name for c in TABLES[table] if c.name not in unique]


def schema(table: str) -> pa.Schema:
    """The pinned Arrow schema of ``table``, with the schema version in its metadata."""
    fields = [pa.field(c.name, c.type, nullable=c.nullable) for c in TABLES[table]]
    return pa.schema(fields, metadata={b"smoltrace.schema_version": PUBLISHED_SCHEMA_VERSION.encode()})


def markdown_table(table: str) -> str:
    """The Markdown table that documents ``table``'s columns."""
    lines = ["| column | type | nullable | meaning |", "|---|---|---|---|"]
    for c in TABLES[table]:
        lines.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {c.description} |")
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - prints the docs tables
    for table in TABLES:
        print(f"### {table}\n\n{markdown_table(table)}\n")  # noqa: T201


if __name__ == "__main__":
    main()
