"""Trace rows: one row per span, with a fixed schema (``schemas.TRACES_COLUMNS``), streamed to Parquet.

Attributes, events, links and resource attributes are JSON text, so every run's table
has the same columns whatever attributes its spans carry.
"""

from __future__ import annotations

from pathlib import Path

from publisher.otlp_json import Span
from publisher.parquet_files import StreamingParquet, json_text
from publisher.schemas import PUBLISHED_SCHEMA_VERSION


class TraceRowWriter:
    """Appends spans as trace rows to a staged Parquet file; :meth:`commit` puts it in place."""

    def __init__(self, staging_dir: Path, run_id: str) -> None:
        self.run_id = run_id
        self._out = StreamingParquet(staging_dir, "traces")
        self._resource_json: tuple[object, str] = (None, "{}")
        c = self._out.columns
        self._columns = (
            c["schema_version"],
            c["run_id"],
            c["trace_id"],
            c["span_id"],
            c["parent_span_id"],
            c["name"],
            c["kind"],
            c["start_time"],
            c["end_time"],
            c["start_time_unix_nano"],
            c["end_time_unix_nano"],
            c["duration_ms"],
            c["status_code"],
            c["status_message"],
            c["attributes"],
            c["events"],
            c["links"],
            c["resource_attributes"],
            c["scope_name"],
            c["scope_version"],
            c["service_name"],
        )

    @property
    def rows(self) -> int:
        return self._out.rows

    def add(self, span: Span) -> None:
        resource = span.resource
        if self._resource_json[0] is not resource:
            self._resource_json = (resource, json_text(resource.attributes))
        start, end = span.start_time_unix_nano, span.end_time_unix_nano
        values = (
            PUBLISHED_SCHEMA_VERSION,
            self.run_id,
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            span.name,
            span.kind_name,
            start // 1000,
            end // 1000,
            start,
            end,
            max(0, end - start) / 1e6,
            span.status_name,
            span.status_message or None,
            json_text(span.attributes),
            json_text([e.as_dict() for e in span.events]) if span.events else "[]",
            json_text([link.as_dict() for link in span.links]) if span.links else "[]",
            self._resource_json[1],
            span.scope.name or None,
            span.scope.version or None,
            _text(resource.attributes.get("service.name")),
        )
        for column, value in zip(self._columns, values, strict=True):
            column.append(value)
        self._out.flush_if_full()

    def commit(self, final: Path) -> int:
        return self._out.commit(final)

    def abort(self) -> None:
        self._out.abort()


def _text(value: object) -> str | None:
    return None if value is None else str(value)
