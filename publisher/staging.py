"""Staging a run given as in-memory data (the brief's ``push_results_to_hf`` inputs) in the local layout.

:func:`stage_run` writes the same five files as ``smoltrace publish`` (``publisher/layout.py``)
from Python data instead of Collector exports:

* ``all_results``: results rows, dicts keyed by the results table's columns
  (``publisher/schemas.py``), as a list or as the brief's mapping of agent type to rows
  (a row without ``agent_type`` takes its key). Missing nullable columns are null; missing
  required ones take their zero value (``0``, ``[]``, ``"unset"``; ``duration_ms`` from the
  start and end times when both are given). ``test_id`` (the reference tool's name) is read
  as ``task_id``; other keys that are not columns are left out. Rows are kept as given: several
  rows for one task id are several attempts (see ``pass_at_1``).
* ``trace_data``: trace rows, dicts keyed by the traces table's columns, such as a
  published traces file read back. ``attributes``, ``events``, ``links`` and
  ``resource_attributes`` may be JSON text or Python values; times may be given as
  ``*_unix_nano`` or as datetimes. ``smoltrace.run`` spans among them give the run facts
  (planned tasks, status, dataset), as in a publish from exports.
* ``metric_data``: the brief's ``{"run_id", "resourceMetrics", "aggregates"}``. The GPU
  points of ``resourceMetrics`` are decoded as the export reader decodes them
  (``GpuSeriesStore``), so the metrics rows, the raw JSON (re-encoded, tagged with the run
  id, GPU metrics only) and the leaderboard's GPU figures agree. Its ``aggregates`` win over
  the ones computed here for the same name.

The month in the paths is that of the earliest time given (run span, trace, result or
GPU point), else the current month. CO2 uses ``energy``, else ``SMOLTRACE_GRID_INTENSITY``
and ``SMOLTRACE_PUE`` or their defaults, as ``smoltrace publish`` does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from publisher import metric_data as md
from publisher.energy import EnergySettings
from publisher.gpu import aggregate_streams
from publisher.gpu_series import GpuSeriesStore
from publisher.layout import RunLayout, month_of
from publisher.leaderboard import STATUS_ERROR, compute_leaderboard_row
from publisher.local import STAGING_DIR, local_link, remove_if_empty, write_leaderboard_row
from publisher.metric_rows import write_metric_rows
from publisher.parquet_files import json_text, write_rows
from publisher.run_facts import RunSpan, attempt_windows, latest, run_facts
from publisher.schemas import PUBLISHED_SCHEMA_VERSION, TABLES
from publisher.totals import ResultTotals
from smoltrace_otel import attributes as A
from smoltrace_otel.errors import UsageError

logger = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ALIASES = {"test_id": "task_id"}
_ZERO = {
    "llm_calls": 0,
    "tool_calls": 0,
    "tools_used": [],
    "start_time_unix_nano": 0,
    "end_time_unix_nano": 0,
    "duration_ms": 0.0,
    "status_code": "unset",
    "kind": "unspecified",
    "name": "",
}
_JSON_COLUMNS = {"attributes": "{}", "events": "[]", "links": "[]", "resource_attributes": "{}"}


def stage_run(
    output_dir: Path,
    *,
    all_results: Any,
    trace_data: Any,
    metric_data: Any,
    model_name: str,
    run_id: str,
    energy: EnergySettings | None = None,
) -> RunLayout:
    """Write the run's four Parquet files and its raw ``metric_data`` JSON under ``output_dir``; return the layout."""
    energy = energy or EnergySettings.from_env()
    metric_data = metric_data or {}
    if not isinstance(metric_data, Mapping):
        raise UsageError("metric_data must be a dict {'run_id', 'resourceMetrics', 'aggregates'}")
    results, traces = results_rows(all_results, run_id), trace_rows(trace_data, run_id)
    store = GpuSeriesStore()
    store.add_resource_metrics(metric_data.get("resourceMetrics") or [], source="run")
    spans = _run_spans(traces)
    layout = RunLayout(Path(output_dir), run_id, month_of(_earliest([*results, *traces], spans, store)))

    _write(layout, "results", results)
    _write(layout, "traces", traces)
    windows = attempt_windows(spans)
    start = windows[0][0] if windows else None
    gpu = aggregate_streams(store.streams(), window_start=start, energy=energy)
    totals = ResultTotals.of(results)
    summaries = _trace_summaries(traces)
    spans_total = sum(s["span_count"] for s in summaries)
    errors_total = sum(s["error_spans"] for s in summaries)
    aggregates = _merge_aggregates(
        md.build_aggregates(totals, (spans_total, errors_total), gpu, energy.grid_intensity_g_per_kwh, energy.pue),
        metric_data.get("aggregates") or [],
    )
    staged = md.build_metric_data(run_id, store, aggregates, gpu)
    staging = layout.root / STAGING_DIR
    try:
        write_metric_rows(store, run_id, staging, layout.data_file("metrics"))
    finally:
        remove_if_empty(staging)
    md.write_metric_data(layout.raw_metrics_file(), staged)

    newest = latest(spans)
    run_attrs = newest.attributes if newest else {}
    agent_types = {str(r["agent_type"]) for r in results if r.get("agent_type")}
    row = compute_leaderboard_row(
        model_name=model_name,
        all_results=totals,
        trace_data=summaries,
        metric_data=staged,
        dataset_used=_text(run_attrs.get(A.RUN_DATASET)),
        results_dataset=local_link(layout, "results"),
        traces_dataset=local_link(layout, "traces"),
        metrics_dataset=local_link(layout, "metrics"),
        agent_type=str(run_attrs.get(A.RUN_AGENT_TYPE) or (agent_types.pop() if len(agent_types) == 1 else "both")),
        run_id=run_id,
        provider=str(run_attrs.get(A.RUN_PROVIDER) or "litellm"),
        run=run_facts(spans, start_unix_nano=start) if spans else None,
    )
    write_leaderboard_row(layout, row)
    logger.info("staged run %s (%d result rows, %d trace rows) under %s", run_id, len(results), len(traces), output_dir)
    return layout


def results_rows(all_results: Any, run_id: str) -> list[dict[str, Any]]:
    """``all_results`` (rows, or agent type -> rows) as rows of the results table."""
    if all_results is None:
        return []
    if isinstance(all_results, Mapping):
        given = [(r, agent_type) for agent_type, rows in all_results.items() for r in rows or ()]
    else:
        given = [(r, None) for r in all_results]
    out = []
    for n, (given_row, agent_type) in enumerate(given):
        row = _as_row(given_row, "results", n)
        if agent_type is not None:
            row.setdefault("agent_type", agent_type)
        _fill_duration(row)
        out.append(_complete(row, "results", run_id))
    return out


def trace_rows(trace_data: Any, run_id: str) -> list[dict[str, Any]]:
    """``trace_data`` (trace rows) as rows of the traces table."""
    out = []
    for n, given_row in enumerate(trace_data or ()):
        if isinstance(given_row, Mapping) and "resourceSpans" in given_row:
            raise UsageError(
                "trace_data holds trace rows (dicts with the traces table's columns), not OTLP JSON documents: "
                "write those to <exports>/<run_id>/traces.jsonl and run `smoltrace publish`"
            )
        row = _as_row(given_row, "traces", n)
        for column in ("start", "end"):
            moment = row.get(f"{column}_time")
            if row.get(f"{column}_time_unix_nano") is None and isinstance(moment, datetime):
                row[f"{column}_time_unix_nano"] = _nanos(moment)
        for column, empty in _JSON_COLUMNS.items():
            value = row.get(column)
            row[column] = empty if value is None else value if isinstance(value, str) else json_text(value)
        _fill_duration(row)
        complete = _complete(row, "traces", run_id)
        # The timestamp columns hold microseconds; the *_unix_nano columns are the exact times.
        complete["start_time"] = complete["start_time_unix_nano"] // 1000
        complete["end_time"] = complete["end_time_unix_nano"] // 1000
        out.append(complete)
    return out


def _fill_duration(row: dict[str, Any]) -> None:
    """``duration_ms`` from the start and end times when it is missing and both are there."""
    start, end = row.get("start_time_unix_nano"), row.get("end_time_unix_nano")
    if row.get("duration_ms") is None and start and end:
        row["duration_ms"] = max(0, end - start) / 1e6


def _nanos(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1) * 1000


def _as_row(row: Any, table: str, n: int) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise UsageError(f"{table} row {n} is a {type(row).__name__}, not a dict")
    columns = {column.name for column in TABLES[table]}
    out = {ALIASES.get(key, key): value for key, value in row.items() if ALIASES.get(key, key) in columns}
    ignored = sorted(set(map(str, row)) - columns - set(ALIASES))
    if ignored:
        logger.debug("%s row %d: keys that are not columns left out: %s", table, n, ", ".join(ignored))
    return out


def _complete(row: dict[str, Any], table: str, run_id: str) -> dict[str, Any]:
    """Every column of ``table``: the run's id and schema version, zero values for missing required columns."""
    out = {}
    for column in TABLES[table]:
        value = row.get(column.name)
        if value is None and not column.nullable:
            value = _ZERO.get(column.name)
        out[column.name] = value
    out["schema_version"] = PUBLISHED_SCHEMA_VERSION
    out["run_id"] = run_id
    return out


def _write(layout: RunLayout, table: str, rows: list[dict[str, Any]]) -> None:
    try:
        write_rows(layout.data_file(table), table, rows)  # type: ignore[arg-type]
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as error:
        raise UsageError(f"the {table} rows do not fit the {table} table's schema: {error}") from None


def _run_spans(traces: list[dict[str, Any]]) -> list[RunSpan]:
    spans = []
    for row in traces:
        if row["name"] != A.RUN_SPAN_NAME:
            continue
        try:
            attributes = json.loads(row["attributes"])
        except ValueError:
            attributes = {}
        spans.append(
            RunSpan(
                start=row["start_time_unix_nano"],
                end=row["end_time_unix_nano"],
                status_code=STATUS_ERROR if row["status_code"] == "error" else 0,
                attributes=attributes if isinstance(attributes, dict) else {},
                trace_id=row["trace_id"],
                span_id=row["span_id"],
            )
        )
    return spans


def _trace_summaries(traces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-trace summaries ``compute_leaderboard_row`` counts spans from."""
    counts: dict[Any, list[int]] = {}
    for row in traces:
        count = counts.setdefault(row["trace_id"], [0, 0])
        count[0] += 1
        count[1] += row["status_code"] == "error"
    return [{"trace_id": t, "span_count": c[0], "error_spans": c[1]} for t, c in counts.items()]


def _earliest(rows: list[dict[str, Any]], spans: list[RunSpan], store: GpuSeriesStore) -> int:
    """The earliest time given (ns), else now."""
    times = [s.start for s in spans if s.start]
    times += [r["start_time_unix_nano"] for r in rows if r["start_time_unix_nano"]]
    gpu = store.time_range()
    if gpu and gpu[0]:
        times.append(gpu[0])
    return min(times) if times else time.time_ns()


def _merge_aggregates(computed: list[dict[str, Any]], given: Iterable[Any]) -> list[dict[str, Any]]:
    """``computed``, with the values of ``given`` for the same names and ``given``'s other entries appended."""
    given = [dict(a) for a in given if isinstance(a, Mapping) and "name" in a]
    by_name = {a["name"]: a for a in given}
    merged = [by_name.pop(a["name"], a) for a in computed]
    return merged + [a for a in given if a["name"] in by_name]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
