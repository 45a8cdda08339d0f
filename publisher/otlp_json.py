"""Decoding rules for OTLP JSON, the format the Collector's file exporter and the SDK JSON exporters write.

The rules (``../shared/DESIGN.md``, "OTLP JSON facts"): trace and span ids are hex (upper
case accepted, lower case returned; base64 ids from protobuf JSON are converted too),
64-bit integers are decimal strings or numbers, enums are integers (their proto names are
accepted as well), zero values may be missing, an empty or missing ``parentSpanId`` is a
root span, ``asDouble`` may be a number or ``"NaN"``/``"Infinity"``/``"-Infinity"``,
``"asInt":"0"`` is a real zero, attribute values are any AnyValue kind, and unknown keys
are ignored. Nothing here depends on key order.

Documents arrive as the typed structs of ``otlp_schema``; this module holds the value
rules and turns spans and log records into the records the publisher works with
(:class:`Span`, :class:`LogRecord`); ``otlp_metrics`` does the same for metrics.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec

from publisher import otlp_schema as s

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")
TEMPORALITIES = ("unspecified", "delta", "cumulative")
DELTA = 1
CUMULATIVE = 2

_ENUM_NAMES: dict[str, int] = {
    **{f"SPAN_KIND_{name.upper()}": i for i, name in enumerate(SPAN_KINDS)},
    **{f"STATUS_CODE_{name.upper()}": i for i, name in enumerate(STATUS_CODES)},
    **{f"AGGREGATION_TEMPORALITY_{name.upper()}": i for i, name in enumerate(TEMPORALITIES)},
}
_BASE64_LENGTHS = (24, 12)


def to_int(value: Any) -> int | None:
    """A 64-bit integer field: a decimal string or a number; ``None`` when missing."""
    if value.__class__ is str:
        return int(value)
    if value is None or value is msgspec.UNSET:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"expected an integer, got {value!r}")


def to_float(value: Any) -> float | None:
    """A double field: a number or one of the strings ``NaN``, ``Infinity``, ``-Infinity``."""
    if value is None or value is msgspec.UNSET:
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
    """A trace or span id as lower-case hex; ``None`` for a missing or empty id."""
    if not value or not isinstance(value, str):
        return None
    if len(value) in _BASE64_LENGTHS:
        # protobuf JSON writes ids as base64: 24 characters for 16 bytes, 12 for 8.
        try:
            return base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            pass
    return value.lower()


def any_value(value: s.AnyValue | None) -> Any:
    """The Python value of an OTLP AnyValue (``{}`` or missing is ``None``; bytes stay base64 text)."""
    if value is None:
        return None
    if value.stringValue is not None:
        return value.stringValue
    if value.intValue is not None:
        return to_int(value.intValue)
    if value.doubleValue is not None:
        return to_float(value.doubleValue)
    if value.boolValue is not None:
        return bool(value.boolValue)
    if value.arrayValue is not None:
        return [any_value(item) for item in value.arrayValue.values or ()]
    if value.kvlistValue is not None:
        return attributes(value.kvlistValue.values)
    if value.bytesValue is not None:
        return value.bytesValue
    return None


def attributes(items: list[s.KeyValue] | None) -> dict[str, Any]:
    """A list of key-value pairs as a dict (later duplicates win, as in the SDKs)."""
    out: dict[str, Any] = {}
    if not items:
        return out
    for item in items:
        value = item.value
        if value is None:
            out[item.key] = None
            continue
        # The common kinds are decoded inline: this runs for every attribute of every span.
        text = value.stringValue
        if text is not None:
            out[item.key] = text
            continue
        number = value.intValue
        if number is not None:
            out[item.key] = int(number) if number.__class__ is str else to_int(number)
            continue
        out[item.key] = any_value(value)
    return out


class Resource:
    """A resource's attributes plus a stable key for grouping (``run.id`` left out)."""

    __slots__ = ("attributes", "key")

    def __init__(self, raw: s.Resource | None, ignore: tuple[str, ...] = ("run.id",)) -> None:
        self.attributes = attributes(raw.attributes if raw is not None else None)
        self.key = repr(sorted((k, repr(v)) for k, v in self.attributes.items() if k not in ignore))


class Scope:
    __slots__ = ("attributes", "name", "version")

    def __init__(self, raw: s.Scope | None) -> None:
        raw = raw or s.Scope()
        self.name: str = raw.name or ""
        self.version: str = raw.version or ""
        self.attributes = attributes(raw.attributes)


class Event:
    __slots__ = ("attributes", "name", "time_unix_nano")

    def __init__(self, raw: s.Event) -> None:
        self.name: str = raw.name or ""
        self.time_unix_nano = to_int(raw.timeUnixNano) or 0
        self.attributes = attributes(raw.attributes)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "time_unix_nano": self.time_unix_nano, "attributes": self.attributes}


class Link:
    __slots__ = ("attributes", "span_id", "trace_id")

    def __init__(self, raw: s.Link) -> None:
        self.trace_id = norm_id(raw.traceId)
        self.span_id = norm_id(raw.spanId)
        self.attributes = attributes(raw.attributes)

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

    def __init__(self, raw: s.Span, resource: Resource, scope: Scope) -> None:
        # Fast paths for the usual encodings (32/16 hex digits, integer enums, string
        # timestamps); the general rules handle the rest. This runs once per span.
        self.resource = resource
        self.scope = scope
        value = raw.traceId
        self.trace_id = value if value.__class__ is str and len(value) == 32 and value.islower() else norm_id(value)
        value = raw.spanId
        self.span_id = value if value.__class__ is str and len(value) == 16 and value.islower() else norm_id(value)
        value = raw.parentSpanId
        self.parent_span_id = (
            value if value.__class__ is str and len(value) == 16 and value.islower() else norm_id(value)
        )
        self.name: str = raw.name or ""
        value = raw.kind
        self.kind = value if value.__class__ is int else enum_value(value)
        value = raw.startTimeUnixNano
        self.start_time_unix_nano = int(value) if value.__class__ is str else to_int(value) or 0
        value = raw.endTimeUnixNano
        self.end_time_unix_nano = int(value) if value.__class__ is str else to_int(value) or 0
        self.attributes = attributes(raw.attributes)
        self.events: Sequence[Event] = [Event(e) for e in raw.events] if raw.events else ()
        self.links: Sequence[Link] = [Link(link) for link in raw.links] if raw.links else ()
        status = raw.status
        if status is not None:
            value = status.code
            self.status_code = value if value.__class__ is int else enum_value(value)
            self.status_message: str = status.message or ""
        else:
            self.status_code, self.status_message = 0, ""

    @property
    def kind_name(self) -> str:
        return SPAN_KINDS[self.kind] if 0 <= self.kind < len(SPAN_KINDS) else str(self.kind)

    @property
    def status_name(self) -> str:
        return STATUS_CODES[self.status_code] if 0 <= self.status_code < len(STATUS_CODES) else str(self.status_code)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_time_unix_nano - self.start_time_unix_nano) / 1e6


def iter_spans(document: s.Document) -> Iterator[Span]:
    """Every span of one document."""
    for resource_spans in document.resourceSpans or ():
        resource = Resource(resource_spans.resource)
        for scope_spans in resource_spans.scopeSpans or ():
            scope = Scope(scope_spans.scope)
            for raw in scope_spans.spans or ():
                yield Span(raw, resource, scope)


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

    def __init__(self, raw: s.LogRecord, resource: Resource, scope: Scope) -> None:
        self.resource = resource
        self.scope = scope
        self.time_unix_nano = to_int(raw.timeUnixNano) or 0
        self.observed_time_unix_nano = to_int(raw.observedTimeUnixNano) or 0
        self.severity_number = enum_value(raw.severityNumber)
        self.severity_text: str = raw.severityText or ""
        self.body = any_value(raw.body)
        self.attributes = attributes(raw.attributes)
        self.trace_id = norm_id(raw.traceId)
        self.span_id = norm_id(raw.spanId)
        self.event_name: str = raw.eventName or ""


def iter_log_records(document: s.Document) -> Iterator[LogRecord]:
    """Every log record of a document."""
    for resource_logs in document.resourceLogs or ():
        resource = Resource(resource_logs.resource)
        for scope_logs in resource_logs.scopeLogs or ():
            scope = Scope(scope_logs.scope)
            for raw in scope_logs.logRecords or ():
                yield LogRecord(raw, resource, scope)
