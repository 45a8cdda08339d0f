"""OTLP JSON as the Collector's file exporter writes it, for data made without the SDK.

The encoding rules (``DESIGN.md``, "OTLP JSON facts"): compact JSON, one export request
per line; 64-bit integers (timestamps, ``asInt``, ``intValue``) as decimal strings; enums
as integers (span kind, status code, ``aggregationTemporality``: 2 = cumulative); zero
values left out (``isMonotonic`` only when true, an unset status as ``{}``); ids in
lower-case hex. Doubles with an integral value are written without a fraction (``350``),
as the Collector does. The metric model's rules (:data:`gpu_sidecar.model.RULES`) decide
``asInt`` against ``asDouble``, the contract (:mod:`gpu_sidecar.semconv`) names, units
and instrument kinds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpu_sidecar.model import RULES, Observation
from gpu_sidecar.semconv import MetricSpec

CUMULATIVE = 2
SPAN_KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
STATUS_ERROR = 2


def any_value(value: Any) -> dict[str, Any]:
    """An OTLP ``AnyValue``: ``None`` is ``{}``, a mapping a ``kvlistValue``, a list or tuple an
    ``arrayValue``; any other value is written as its text."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": double(value)}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Mapping):
        return {"kvlistValue": {"values": attributes(value)}}
    if isinstance(value, list | tuple):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    return {"stringValue": str(value)}


def attributes(values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
    items = values.items() if isinstance(values, Mapping) else values
    return [{"key": key, "value": any_value(value)} for key, value in items]


def double(value: float) -> int | float | str:
    """A double as the Collector writes it: ``350`` for 350.0; ``"NaN"``, ``"Infinity"`` or
    ``"-Infinity"`` for a value that is not finite (the OTLP JSON encoding of those)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def dumps(document: Mapping[str, Any]) -> str:
    """One compact JSON line (without the newline)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Scope:
    name: str
    version: str = ""

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version} if self.version else {"name": self.name}


# --- metrics ----------------------------------------------------------------------------


def metric_point(observation: Observation, time_ns: int, start_ns: int | None) -> dict[str, Any]:
    point: dict[str, Any] = {"attributes": attributes(observation.attributes)}
    if start_ns is not None:
        point["startTimeUnixNano"] = str(start_ns)
    point["timeUnixNano"] = str(time_ns)
    if RULES[observation.spec.name].integral:
        point["asInt"] = str(int(observation.value))
    else:
        point["asDouble"] = double(float(observation.value))
    return point


def metric(spec: MetricSpec, observations: Sequence[Observation], time_ns: int, start_ns: int) -> dict[str, Any]:
    """One metric of an export: gauges carry no start time; counters are cumulative sums from ``start_ns``."""
    if spec.instrument == "gauge":
        body: dict[str, Any] = {"dataPoints": [metric_point(o, time_ns, None) for o in observations]}
        kind = "gauge"
    else:
        body = {"dataPoints": [metric_point(o, time_ns, start_ns) for o in observations]}
        body["aggregationTemporality"] = CUMULATIVE
        if spec.instrument == "counter":
            body["isMonotonic"] = True
        kind = "sum"
    return {"name": spec.name, "description": spec.description, "unit": spec.unit, kind: body}


def resource_metrics(
    resource: Mapping[str, Any],
    scope: Scope,
    specs: Sequence[MetricSpec],
    observations: Sequence[Observation],
    *,
    time_ns: int,
    start_ns: int,
) -> dict[str, Any]:
    """A ``resourceMetrics`` entry: the observations of one export, metrics in ``specs`` order."""
    by_name: dict[str, list[Observation]] = {}
    for observation in observations:
        by_name.setdefault(observation.spec.name, []).append(observation)
    metrics = [metric(spec, by_name[spec.name], time_ns, start_ns) for spec in specs if spec.name in by_name]
    return {
        "resource": {"attributes": attributes(resource)},
        "scopeMetrics": [{"scope": scope.as_json(), "metrics": metrics}],
    }


# --- spans --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class SpanRecord:
    """A finished span, ready to encode."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: Mapping[str, Any]
    events: Sequence[SpanEvent] = ()
    links: Sequence[tuple[str, str]] = ()
    """(trace id, span id) of linked spans."""
    error: str | None = None
    """Status message of an error status; ``None`` leaves the status unset."""

    def as_json(self) -> dict[str, Any]:
        span: dict[str, Any] = {"traceId": self.trace_id, "spanId": self.span_id}
        if self.parent_span_id:
            span["parentSpanId"] = self.parent_span_id
        span |= {
            "name": self.name,
            "kind": SPAN_KINDS[self.kind],
            "startTimeUnixNano": str(self.start_ns),
            "endTimeUnixNano": str(self.end_ns),
            "attributes": attributes(self.attributes),
        }
        if self.events:
            span["events"] = [
                {"timeUnixNano": str(e.time_ns), "name": e.name, "attributes": attributes(e.attributes)}
                for e in self.events
            ]
        if self.links:
            span["links"] = [{"traceId": trace_id, "spanId": span_id} for trace_id, span_id in self.links]
        span["status"] = {"message": self.error, "code": STATUS_ERROR} if self.error is not None else {}
        return span


def resource_spans(resource: Mapping[str, Any], scope: Scope, spans: Iterable[SpanRecord]) -> dict[str, Any]:
    return {
        "resource": {"attributes": attributes(resource)},
        "scopeSpans": [{"scope": scope.as_json(), "spans": [span.as_json() for span in spans]}],
    }
