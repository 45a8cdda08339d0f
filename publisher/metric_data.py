"""The brief's ``metric_data`` and the metrics table rows, both built from the run's GPU streams.

``metric_data = {"run_id", "resourceMetrics", "aggregates"}``:

* ``resourceMetrics``: the run's GPU time series as OTLP JSON (the Collector's encoding:
  64-bit integers as strings, enums as integers), every resource tagged with ``run.id``,
  points deduplicated and in time order, including the points joined from
  ``unassigned/``. It is a :class:`ResourceMetricsView`: an iterable that renders one
  stream (at most ``CHUNK_POINTS`` points) at a time, so a large run never sits in
  memory as JSON objects.
* ``aggregates``: trace-derived figures as ``{"name", "value"}`` (tokens, cost, energy,
  CO2, task counts); a figure that was not measured has the value ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from math import isnan
from pathlib import Path
from typing import Any

from publisher.gpu_series import CANONICAL_UNIT, GpuSeriesStore, Stream
from publisher.otlp_json import TEMPORALITIES
from publisher.parquet_files import StreamingParquet, atomic_path, json_bytes, json_text
from publisher.schemas import PUBLISHED_SCHEMA_VERSION
from publisher.totals import ResultTotals
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE

CHUNK_POINTS = 5000


def otlp_value(value: Any) -> dict[str, Any]:
    """An OTLP AnyValue for a Python value."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": _double(value)}
    if isinstance(value, list):
        return {"arrayValue": {"values": [otlp_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": otlp_attributes(value)}}
    if value is None:
        return {}
    return {"stringValue": str(value)}


def otlp_attributes(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": otlp_value(v)} for k, v in values.items()]


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


class ResourceMetricsView:
    """The run's GPU series as OTLP JSON ``resourceMetrics`` entries, rendered on demand."""

    def __init__(self, store: GpuSeriesStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for stream in self.store.streams():
            for begin in range(0, len(stream), CHUNK_POINTS):
                yield self._entry(stream, begin, min(begin + CHUNK_POINTS, len(stream)))

    def __len__(self) -> int:
        return sum(math.ceil(len(s) / CHUNK_POINTS) for s in self.store.streams())

    def __bool__(self) -> bool:
        return any(len(s) for s in self.store.streams())

    def _entry(self, stream: Stream, begin: int, end: int) -> dict[str, Any]:
        resource = dict(stream.resource.attributes)
        resource[RUN_ID_ATTRIBUTE] = self.run_id
        point_attributes = otlp_attributes(stream.attributes)
        points = []
        for i in range(begin, end):
            point: dict[str, Any] = {"attributes": point_attributes}
            if stream.starts[i]:
                point["startTimeUnixNano"] = str(stream.starts[i])
            point["timeUnixNano"] = str(stream.times[i])
            value = stream.values[i]
            if stream.is_int and value.is_integer():
                point["asInt"] = str(int(value))
            else:
                point["asDouble"] = _double(value)
            points.append(point)
        body: dict[str, Any] = {"dataPoints": points}
        if stream.kind == "sum":
            body["aggregationTemporality"] = stream.temporality
            body["isMonotonic"] = stream.monotonic
        metric: dict[str, Any] = {"name": stream.name, "unit": stream.unit}
        if stream.description:
            metric["description"] = stream.description
        metric[stream.kind] = body
        scope: dict[str, Any] = {"name": stream.scope_name}
        if stream.scope_version:
            scope["version"] = stream.scope_version
        return {
            "resource": {"attributes": otlp_attributes(resource)},
            "scopeMetrics": [{"scope": scope, "metrics": [metric]}],
        }


def build_metric_data(run_id: str, store: GpuSeriesStore, aggregates: list[dict[str, Any]]) -> dict[str, Any]:
    """The brief's ``metric_data`` dictionary (``resourceMetrics`` rendered lazily)."""
    return {"run_id": run_id, "resourceMetrics": ResourceMetricsView(store, run_id), "aggregates": aggregates}


def write_metric_data(path: Path, metric_data: Mapping[str, Any]) -> None:
    """Write ``metric_data`` as one JSON document, streaming ``resourceMetrics`` entry by entry, atomically."""
    with atomic_path(path) as temp, temp.open("wb") as handle:
        handle.write(b'{"run_id":' + json_bytes(metric_data["run_id"]) + b',"resourceMetrics":[')
        for n, entry in enumerate(metric_data["resourceMetrics"]):
            if n:
                handle.write(b",")
            handle.write(json_bytes(entry))
        handle.write(b'],"aggregates":' + json_bytes(metric_data["aggregates"]) + b"}\n")


def write_metric_rows(store: GpuSeriesStore, run_id: str, staging_dir: Path, final: Path) -> int:
    """One metrics-table row per GPU data point, streamed to Parquet; returns the row count."""
    out = StreamingParquet(staging_dir, "metrics")
    try:
        for stream in store.streams():
            attributes_json = json_text(stream.attributes)
            temporality = TEMPORALITIES[stream.temporality] if stream.kind == "sum" and stream.temporality < 3 else None
            factor = stream.factor
            service = _text(stream.resource.attributes.get("service.name"))
            for time_ns, start_ns, value in zip(stream.times, stream.starts, stream.values, strict=True):
                finite = None if isnan(value) else value
                # In the order of schemas.METRICS_COLUMNS.
                out.append((
                    PUBLISHED_SCHEMA_VERSION, run_id, time_ns // 1000, time_ns, start_ns, stream.name, stream.unit,
                    finite, stream.quantity,
                    finite * factor if finite is not None and factor is not None else None,
                    CANONICAL_UNIT[stream.quantity], stream.kind, temporality, stream.gpu_id, stream.gpu_name,
                    stream.host or None, service, stream.source, attributes_json,
                ))  # fmt: skip
        return out.commit(final)
    except BaseException:
        out.abort()
        raise


def _text(value: object) -> str | None:
    return None if value is None else str(value)


AGG_PROMPT_TOKENS = "llm.token_count.prompt"
AGG_COMPLETION_TOKENS = "llm.token_count.completion"
AGG_TOTAL_TOKENS = "llm.token_count.total"
AGG_COST_USD = "smoltrace.cost.total_usd"
AGG_CO2_G = "gen_ai.co2.emissions"
"""Grams CO2e over the run window, summed across GPUs."""
AGG_ENERGY_WH = "smoltrace.energy.wh"
AGG_ENERGY_SOURCE = "smoltrace.energy.source"
AGG_GRID_INTENSITY = "smoltrace.co2.grid_intensity_g_per_kwh"
AGG_PUE = "smoltrace.co2.pue"
AGG_TASKS_TOTAL = "smoltrace.tasks.total"
AGG_TASKS_SUCCESSFUL = "smoltrace.tasks.successful"
AGG_TASKS_FAILED = "smoltrace.tasks.failed"
AGG_TASKS_INTERRUPTED = "smoltrace.tasks.interrupted"
AGG_SPANS_TOTAL = "smoltrace.spans.total"
AGG_SPANS_ERROR = "smoltrace.spans.error"


def build_aggregates(
    totals: ResultTotals,
    spans: tuple[int, int],
    gpu: Mapping[str, Any],
    grid_intensity_g_per_kwh: float,
    pue: float,
) -> list[dict[str, Any]]:
    """The ``aggregates`` list: totals of the results rows, span counts ``(total, with error)``,
    energy and CO2 (``None`` when not measured)."""
    return [
        aggregate(AGG_PROMPT_TOKENS, totals.total("prompt_tokens")),
        aggregate(AGG_COMPLETION_TOKENS, totals.total("completion_tokens")),
        aggregate(AGG_TOTAL_TOKENS, totals.total("total_tokens")),
        aggregate(AGG_COST_USD, totals.total("cost_usd")),
        aggregate(AGG_ENERGY_WH, gpu.get("energy_wh")),
        aggregate(AGG_ENERGY_SOURCE, gpu.get("energy_source")),
        aggregate(AGG_CO2_G, gpu.get("co2_g")),
        aggregate(AGG_GRID_INTENSITY, grid_intensity_g_per_kwh),
        aggregate(AGG_PUE, pue),
        aggregate(AGG_TASKS_TOTAL, totals.scored),
        aggregate(AGG_TASKS_SUCCESSFUL, totals.successful),
        aggregate(AGG_TASKS_FAILED, totals.failed),
        aggregate(AGG_TASKS_INTERRUPTED, totals.rows - totals.scored),
        aggregate(AGG_SPANS_TOTAL, spans[0]),
        aggregate(AGG_SPANS_ERROR, spans[1]),
    ]


def aggregate(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "value": value}


def has_aggregate(aggregates: list[Mapping[str, Any]], name: str) -> bool:
    return any(a.get("name") == name for a in aggregates)


def find_aggregate(aggregates: list[Mapping[str, Any]], name: str) -> Any:
    """The value of the aggregate called ``name`` (``None`` if absent)."""
    return next((a.get("value") for a in aggregates if a.get("name") == name), None)
