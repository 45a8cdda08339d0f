"""Metric records from OTLP JSON documents: metrics, their data points, and number values.

The decoding rules are those of ``otlp_json``; zero values are filled in where the
encoding omits them (a missing temporality is 0, unspecified; a missing ``isMonotonic``
is false; ``"asInt":"0"`` is a real zero).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from publisher import otlp_schema as s
from publisher.otlp_json import Resource, Scope, attributes, enum_value, to_float, to_int

METRIC_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


class Metric:
    """A metric's identity and instrument facts, shared by its data points."""

    __slots__ = ("description", "kind", "monotonic", "name", "resource", "scope", "temporality", "unit")

    def __init__(self, raw: s.Metric, kind: str, body: s.MetricData, resource: Resource, scope: Scope) -> None:
        self.name: str = raw.name or ""
        self.unit: str = raw.unit or ""
        self.description: str = raw.description or ""
        self.kind = kind
        self.temporality = enum_value(body.aggregationTemporality)
        self.monotonic = bool(body.isMonotonic)
        self.resource = resource
        self.scope = scope


class Point:
    """One decoded data point. ``value`` is set for gauges and sums (NaN kept), ``None`` otherwise."""

    __slots__ = ("attributes", "fields", "is_int", "metric", "start_time_unix_nano", "time_unix_nano", "value")

    def __init__(self, raw: s.DataPoint, metric: Metric) -> None:
        self.metric = metric
        self.attributes = attributes(raw.attributes)
        self.start_time_unix_nano = to_int(raw.startTimeUnixNano) or 0
        self.time_unix_nano = to_int(raw.timeUnixNano) or 0
        self.fields: dict[str, Any] = {}
        self.value, self.is_int = number_value(raw) if metric.kind in ("gauge", "sum") else (None, False)
        if metric.kind not in ("gauge", "sum"):
            self.fields = _distribution_fields(raw, metric.kind)


def number_value(raw: s.DataPoint) -> tuple[float | int | None, bool]:
    """(value, is an integer) of a gauge or sum point; ``(None, False)`` when it has neither field."""
    if raw.asInt is not msgspec.UNSET:
        return to_int(raw.asInt), True
    if raw.asDouble is not msgspec.UNSET:
        return to_float(raw.asDouble), False
    return None, False


def _counts(values: Any) -> list[int]:
    return [to_int(v) or 0 for v in values or ()]


def _distribution_fields(raw: s.DataPoint, kind: str) -> dict[str, Any]:
    """Histogram, exponential histogram and summary fields, zero values filled in."""
    fields: dict[str, Any] = {
        "count": to_int(raw.count) or 0,
        "sum": to_float(raw.sum),
        "min": to_float(raw.min),
        "max": to_float(raw.max),
    }
    if kind == "histogram":
        fields["bucket_counts"] = _counts(raw.bucketCounts)
        fields["explicit_bounds"] = [to_float(b) for b in raw.explicitBounds or ()]
    elif kind == "exponentialHistogram":
        fields["scale"] = to_int(raw.scale) or 0
        fields["zero_count"] = to_int(raw.zeroCount) or 0
        fields["zero_threshold"] = to_float(raw.zeroThreshold) or 0.0
        for side in ("positive", "negative"):
            buckets = getattr(raw, side) or {}
            fields[side] = {
                "offset": to_int(buckets.get("offset")) or 0,
                "bucket_counts": _counts(buckets.get("bucketCounts")),
            }
    elif kind == "summary":
        fields["quantile_values"] = [
            (to_float(q.get("quantile")) or 0.0, to_float(q.get("value")) or 0.0) for q in raw.quantileValues or ()
        ]
    return fields


def iter_metrics(
    document: s.Document, accept: Callable[[str], bool] | None = None
) -> Iterator[tuple[Metric, list[s.DataPoint]]]:
    """Each metric of a document with its (undecoded) data points; ``accept(name)`` filters first."""
    for resource_metrics in document.resourceMetrics or ():
        resource: Resource | None = None
        for scope_metrics in resource_metrics.scopeMetrics or ():
            scope: Scope | None = None
            for raw in scope_metrics.metrics or ():
                if accept is not None and not accept(raw.name or ""):
                    continue
                kind = next((k for k in METRIC_KINDS if getattr(raw, k) is not None), None)
                if kind is None:
                    continue
                if resource is None:
                    resource = Resource(resource_metrics.resource)
                if scope is None:
                    scope = Scope(scope_metrics.scope)
                body = getattr(raw, kind)
                yield Metric(raw, kind, body, resource, scope), body.dataPoints or []


def iter_metric_points(document: s.Document, accept: Callable[[str], bool] | None = None) -> Iterator[Point]:
    """Every data point of a document, decoded."""
    for metric, raw_points in iter_metrics(document, accept):
        for raw in raw_points:
            yield Point(raw, metric)
