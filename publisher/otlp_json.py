"""Decoding rules for OTLP JSON, the format the Collector's file exporter and the SDK JSON exporters write.

The rules (``../shared/DESIGN.md``, "OTLP JSON facts"): trace and span ids are hex (upper
case accepted, lower case returned; base64 ids from protobuf JSON are converted too),
64-bit integers are decimal strings or numbers, enums are integers (their proto names are
accepted as well), zero values may be missing, an empty or missing ``parentSpanId`` is a
root span, ``asDouble`` may be a number or ``"NaN"``/``"Infinity"``/``"-Infinity"``,
``"asInt":"0"`` is a real zero, attribute values are any AnyValue kind, and unknown keys
are ignored. Nothing here depends on key order.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator, Mapping
from typing import Any

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")
TEMPORALITIES = ("unspecified", "delta", "cumulative")
DELTA = 1
CUMULATIVE = 2
METRIC_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")

_ENUM_NAMES: dict[str, int] = {
    **{f"SPAN_KIND_{name.upper()}": i for i, name in enumerate(SPAN_KINDS)},
    **{f"STATUS_CODE_{name.upper()}": i for i, name in enumerate(STATUS_CODES)},
    **{f"AGGREGATION_TEMPORALITY_{name.upper()}": i for i, name in enumerate(TEMPORALITIES)},
}
_HEX_LENGTHS = (32, 16)
_BASE64_LENGTHS = (24, 12)


def to_int(value: Any) -> int | None:
    """A 64-bit integer field: a decimal string or a number; ``None`` when missing."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def to_float(value: Any) -> float | None:
    """A double field: a number or one of the strings ``NaN``, ``Infinity``, ``-Infinity``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def enum_value(value: Any) -> int:
    """An enum field: an integer (the usual form), a proto enum name, or missing (zero)."""
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value in _ENUM_NAMES:
            return _ENUM_NAMES[value]
        return int(value)
    raise ValueError(f"expected an enum value, got {value!r}")


def norm_id(value: Any) -> str | None:
    """A trace or span id as lower-case hex; ``None`` for a missing, empty or all-zero id."""
    if not value or not isinstance(value, str):
        return None
    length = len(value)
    if length in _HEX_LENGTHS:
        text = value.lower()
    elif length in _BASE64_LENGTHS:
        try:
            text = base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            text = value.lower()
    else:
        text = value.lower()
    if not text.strip("0"):
        return None
    return text


def any_value(value: Any) -> Any:
    """The Python value of an OTLP AnyValue (``{}`` or missing is ``None``; bytes stay base64 text)."""
    if not value:
        return None
    for kind, raw in value.items():
        if kind == "stringValue":
            return raw
        if kind == "intValue":
            return int(raw)
        if kind == "doubleValue":
            return float(raw)
        if kind == "boolValue":
            return bool(raw)
        if kind == "arrayValue":
            return [any_value(item) for item in (raw or {}).get("values") or ()]
        if kind == "kvlistValue":
            return attributes((raw or {}).get("values"))
        if kind == "bytesValue":
            return raw
    return None


def attributes(items: Any) -> dict[str, Any]:
    """A list of ``{"key", "value"}`` pairs as a dict (later duplicates win, as in the SDKs)."""
    if not items:
        return {}
    return {item.get("key", ""): any_value(item.get("value")) for item in items}


class Resource:
    """A resource's attributes plus a stable key for grouping (``run.id`` left out)."""

    __slots__ = ("attributes", "key")

    def __init__(self, raw: Mapping[str, Any] | None, ignore: tuple[str, ...] = ("run.id",)) -> None:
        self.attributes = attributes((raw or {}).get("attributes"))
        self.key = repr(sorted((k, repr(v)) for k, v in self.attributes.items() if k not in ignore))


class Scope:
    __slots__ = ("attributes", "name", "version")

    def __init__(self, raw: Mapping[str, Any] | None) -> None:
        raw = raw or {}
        self.name: str = raw.get("name") or ""
        self.version: str = raw.get("version") or ""
        self.attributes = attributes(raw.get("attributes"))


class Event:
    __slots__ = ("attributes", "name", "time_unix_nano")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.name: str = raw.get("name") or ""
        self.time_unix_nano = to_int(raw.get("timeUnixNano")) or 0
        self.attributes = attributes(raw.get("attributes"))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "time_unix_nano": self.time_unix_nano, "attributes": self.attributes}


class Link:
    __slots__ = ("attributes", "span_id", "trace_id")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.trace_id = norm_id(raw.get("traceId"))
        self.span_id = norm_id(raw.get("spanId"))
        self.attributes = attributes(raw.get("attributes"))

    def as_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "span_id": self.span_id, "attributes": self.attributes}


class Span:
    """One decoded span, with the resource and scope it came with."""

    __slots__ = (
        "attributes",
        "end_time_unix_nano",
        "events",
        "kind",
        "links",
        "name",
        "parent_span_id",
        "resource",
        "scope",
        "span_id",
        "start_time_unix_nano",
        "status_code",
        "status_message",
        "trace_id",
    )

    def __init__(self, raw: Mapping[str, Any], resource: Resource, scope: Scope) -> None:
        self.resource = resource
        self.scope = scope
        self.trace_id = norm_id(raw.get("traceId"))
        self.span_id = norm_id(raw.get("spanId"))
        self.parent_span_id = norm_id(raw.get("parentSpanId"))
        self.name: str = raw.get("name") or ""
        self.kind = enum_value(raw.get("kind"))
        self.start_time_unix_nano = to_int(raw.get("startTimeUnixNano")) or 0
        self.end_time_unix_nano = to_int(raw.get("endTimeUnixNano")) or 0
        self.attributes = attributes(raw.get("attributes"))
        self.events = [Event(e) for e in raw.get("events") or ()]
        self.links = [Link(link) for link in raw.get("links") or ()]
        status = raw.get("status") or {}
        self.status_code = enum_value(status.get("code"))
        self.status_message: str = status.get("message") or ""

    @property
    def kind_name(self) -> str:
        return SPAN_KINDS[self.kind] if 0 <= self.kind < len(SPAN_KINDS) else str(self.kind)

    @property
    def status_name(self) -> str:
        return STATUS_CODES[self.status_code] if 0 <= self.status_code < len(STATUS_CODES) else str(self.status_code)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_time_unix_nano - self.start_time_unix_nano) / 1e6


def iter_spans(document: Mapping[str, Any]) -> Iterator[Span]:
    """Every span of one ``{"resourceSpans": [...]}`` document."""
    for resource_spans in document.get("resourceSpans") or ():
        resource = Resource(resource_spans.get("resource"))
        for scope_spans in resource_spans.get("scopeSpans") or ():
            scope = Scope(scope_spans.get("scope"))
            for raw in scope_spans.get("spans") or ():
                yield Span(raw, resource, scope)


class Metric:
    """A metric's identity and instrument facts, shared by its data points."""

    __slots__ = ("description", "kind", "monotonic", "name", "resource", "scope", "temporality", "unit")

    def __init__(self, raw: Mapping[str, Any], kind: str, resource: Resource, scope: Scope) -> None:
        body = raw.get(kind) or {}
        self.name: str = raw.get("name") or ""
        self.unit: str = raw.get("unit") or ""
        self.description: str = raw.get("description") or ""
        self.kind = kind
        self.temporality = enum_value(body.get("aggregationTemporality"))
        self.monotonic = bool(body.get("isMonotonic", False))
        self.resource = resource
        self.scope = scope


class Point:
    """One decoded data point. ``value`` is set for gauges and sums (NaN kept), ``None`` otherwise."""

    __slots__ = ("attributes", "fields", "is_int", "metric", "start_time_unix_nano", "time_unix_nano", "value")

    def __init__(self, raw: Mapping[str, Any], metric: Metric) -> None:
        self.metric = metric
        self.attributes = attributes(raw.get("attributes"))
        self.start_time_unix_nano = to_int(raw.get("startTimeUnixNano")) or 0
        self.time_unix_nano = to_int(raw.get("timeUnixNano")) or 0
        self.is_int = False
        self.value: float | int | None = None
        self.fields: dict[str, Any] = {}
        if metric.kind in ("gauge", "sum"):
            if "asInt" in raw:
                self.value = to_int(raw["asInt"])
                self.is_int = True
            elif "asDouble" in raw:
                self.value = to_float(raw["asDouble"])
        else:
            self.fields = _distribution_fields(raw, metric.kind)


def _distribution_fields(raw: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """Histogram, exponential histogram and summary fields, zero values filled in."""
    fields: dict[str, Any] = {
        "count": to_int(raw.get("count")) or 0,
        "sum": to_float(raw.get("sum")),
        "min": to_float(raw.get("min")),
        "max": to_float(raw.get("max")),
    }
    if kind == "histogram":
        fields["bucket_counts"] = [to_int(c) for c in raw.get("bucketCounts") or ()]
        fields["explicit_bounds"] = [to_float(b) for b in raw.get("explicitBounds") or ()]
    elif kind == "exponentialHistogram":
        fields["scale"] = to_int(raw.get("scale")) or 0
        fields["zero_count"] = to_int(raw.get("zeroCount")) or 0
        fields["zero_threshold"] = to_float(raw.get("zeroThreshold")) or 0.0
        for side in ("positive", "negative"):
            buckets = raw.get(side) or {}
            fields[side] = {
                "offset": to_int(buckets.get("offset")) or 0,
                "bucket_counts": [to_int(c) for c in buckets.get("bucketCounts") or ()],
            }
    elif kind == "summary":
        fields["quantile_values"] = [
            (to_float(q.get("quantile")) or 0.0, to_float(q.get("value")) or 0.0)
            for q in raw.get("quantileValues") or ()
        ]
    return fields


def iter_metrics(
    document: Mapping[str, Any], accept: Callable[[str], bool] | None = None
) -> Iterator[tuple[Metric, list[Any]]]:
    """Each metric of a ``{"resourceMetrics": [...]}`` document with its raw data points.

    ``accept(name)`` filters metrics before any data point is decoded.
    """
    for resource_metrics in document.get("resourceMetrics") or ():
        resource: Resource | None = None
        for scope_metrics in resource_metrics.get("scopeMetrics") or ():
            scope: Scope | None = None
            for raw in scope_metrics.get("metrics") or ():
                if accept is not None and not accept(raw.get("name") or ""):
                    continue
                kind = next((k for k in METRIC_KINDS if k in raw), None)
                if kind is None:
                    continue
                if resource is None:
                    resource = Resource(resource_metrics.get("resource"))
                if scope is None:
                    scope = Scope(scope_metrics.get("scope"))
                yield Metric(raw, kind, resource, scope), (raw.get(kind) or {}).get("dataPoints") or []


def iter_metric_points(document: Mapping[str, Any], accept: Callable[[str], bool] | None = None) -> Iterator[Point]:
    """Every data point of a metrics document, decoded."""
    for metric, raw_points in iter_metrics(document, accept):
        for raw in raw_points:
            yield Point(raw, metric)


class LogRecord:
    __slots__ = (
        "attributes",
        "body",
        "event_name",
        "observed_time_unix_nano",
        "resource",
        "scope",
        "severity_number",
        "severity_text",
        "span_id",
        "time_unix_nano",
        "trace_id",
    )

    def __init__(self, raw: Mapping[str, Any], resource: Resource, scope: Scope) -> None:
        self.resource = resource
        self.scope = scope
        self.time_unix_nano = to_int(raw.get("timeUnixNano")) or 0
        self.observed_time_unix_nano = to_int(raw.get("observedTimeUnixNano")) or 0
        self.severity_number = enum_value(raw.get("severityNumber"))
        self.severity_text: str = raw.get("severityText") or ""
        self.body = any_value(raw.get("body"))
        self.attributes = attributes(raw.get("attributes"))
        self.trace_id = norm_id(raw.get("traceId"))
        self.span_id = norm_id(raw.get("spanId"))
        self.event_name: str = raw.get("eventName") or ""


def iter_log_records(document: Mapping[str, Any]) -> Iterator[LogRecord]:
    """Every log record of a ``{"resourceLogs": [...]}`` document."""
    for resource_logs in document.get("resourceLogs") or ():
        resource = Resource(resource_logs.get("resource"))
        for scope_logs in resource_logs.get("scopeLogs") or ():
            scope = Scope(scope_logs.get("scope"))
            for raw in scope_logs.get("logRecords") or ():
                yield LogRecord(raw, resource, scope)
