"""The brief's ``metric_data``, built from the run's GPU streams.

``metric_data = {"run_id", "resourceMetrics", "aggregates"}``:

* ``resourceMetrics``: the run's GPU time series as OTLP JSON (the Collector's encoding, as
  ``gpu_sidecar.otlp_encode`` writes it: 64-bit integers as strings, enums as integers), every resource tagged with ``run.id``,
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
from pathlib import Path
from typing import Any

import msgspec

from gpu_sidecar.otlp_encode import attributes as encode_attributes
from gpu_sidecar.otlp_encode import double
from publisher.gpu_series import GpuSeriesStore, Stream
from publisher.parquet_files import atomic_path, json_bytes
from publisher.totals import ResultTotals
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE

CHUNK_POINTS = 5000


class ResourceMetricsView:
    """The run's GPU series as OTLP JSON ``resourceMetrics`` entries, rendered on demand."""

    def __init__(self, store: GpuSeriesStore, run_id: str, summary: dict[str, Any] | None = None) -> None:
        self.store = store
        self.run_id = run_id
        self.summary = summary
        """``aggregate_gpu_metrics`` of these series, when the publisher has already computed it."""

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
        point_attributes = msgspec.Raw(json_bytes(encode_attributes(stream.attributes)))  # encoded once per stream
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
                point["asDouble"] = double(value)
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
            "resource": {"attributes": encode_attributes(resource)},
            "scopeMetrics": [{"scope": scope, "metrics": [metric]}],
        }


def build_metric_data(
    run_id: str, store: GpuSeriesStore, aggregates: list[dict[str, Any]], summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The brief's ``metric_data`` dictionary (``resourceMetrics`` rendered lazily)."""
    return {"run_id": run_id, "resourceMetrics": ResourceMetricsView(store, run_id, summary), "aggregates": aggregates}


def write_metric_data(path: Path, metric_data: Mapping[str, Any]) -> None:
    """Write ``metric_data`` as one JSON document, streaming ``resourceMetrics`` entry by entry, atomically."""
    with atomic_path(path) as temp, temp.open("wb") as handle:
        handle.write(b'{"run_id":' + json_bytes(metric_data["run_id"]) + b',"resourceMetrics":[')
        for n, entry in enumerate(metric_data["resourceMetrics"]):
            if n:
                handle.write(b",")
            handle.write(json_bytes(entry))
        handle.write(b'],"aggregates":' + json_bytes(metric_data["aggregates"]) + b"}\n")


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
