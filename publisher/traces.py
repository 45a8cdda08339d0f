"""Trace rows: one row per span, with a fixed schema (``schemas.TRACES_COLUMNS``), streamed to Parquet.

Attributes, events, links and resource attributes are JSON text, so every run's table
has the same columns whatever attributes its spans carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from publisher.otlp_json import SPAN_KINDS, STATUS_CODES, Span
from publisher.parquet_files import Derive, StreamingParquet, constant, json_bytes
from publisher.schemas import PUBLISHED_SCHEMA_VERSION, TIMESTAMP

_KINDS = len(SPAN_KINDS)
_CODES = len(STATUS_CODES)
ROW_COLUMNS = (
    "trace_id", "span_id", "parent_span_id", "name", "kind", "start_time_unix_nano", "end_time_unix_nano",
    "status_code", "status_message", "attributes", "events", "links", "resource_attributes", "scope_name",
    "scope_version", "service_name",
)  # fmt: skip
"""The columns filled span by span; the others are computed per batch."""


def _timestamp(source: str) -> Derive:
    return lambda columns, _rows: pc.divide(columns[source], 1000).cast(TIMESTAMP)


def _duration_ms(columns: Mapping[str, pa.Array], _rows: int) -> pa.Array:
    nanos = pc.max_element_wise(pc.subtract(columns["end_time_unix_nano"], columns["start_time_unix_nano"]), 0)
    return pc.divide(nanos.cast(pa.float64()), 1e6)


class TraceRowWriter:
    """Appends spans as trace rows to a staged Parquet file; :meth:`commit` puts it in place."""

    def __init__(self, staging_dir: Path, run_id: str) -> None:
        self.run_id = run_id
        self._out = StreamingParquet(
            staging_dir,
            "traces",
            columns=ROW_COLUMNS,
            derived={
                "schema_version": constant(PUBLISHED_SCHEMA_VERSION, pa.string()),
                "run_id": constant(run_id, pa.string()),
                "start_time": _timestamp("start_time_unix_nano"),
                "end_time": _timestamp("end_time_unix_nano"),
                "duration_ms": _duration_ms,
            },
        )
        self._resource: tuple[object, bytes, str | None] = (None, b"{}", None)
        self._append = self._out.append

    @property
    def rows(self) -> int:
        return self._out.rows

    def add(self, span: Span) -> None:
        if self._resource[0] is not span.resource:
            service = span.resource.attributes.get("service.name")
            self._resource = (
                span.resource,
                json_bytes(span.resource.attributes),
                None if service is None else str(service),
            )
        kind, code = span.kind, span.status_code
        # In the order of ROW_COLUMNS.
        self._append((
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            span.name,
            SPAN_KINDS[kind] if 0 <= kind < _KINDS else str(kind),
            span.start_time_unix_nano,
            span.end_time_unix_nano,
            STATUS_CODES[code] if 0 <= code < _CODES else str(code),
            span.status_message or None,
            json_bytes(span.attributes),
            json_bytes([e.as_dict() for e in span.events]) if span.events else b"[]",
            json_bytes([link.as_dict() for link in span.links]) if span.links else b"[]",
            self._resource[1],
            span.scope.name or None,
            span.scope.version or None,
            self._resource[2],
        ))  # fmt: skip

    def commit(self, final: Path) -> int:
        return self._out.commit(final)

    def abort(self) -> None:
        self._out.abort()
