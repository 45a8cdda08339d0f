"""Trace rows: one row per span, with a fixed schema (``schemas.TRACES_COLUMNS``), streamed to Parquet.

Attributes, events, links and resource attributes are JSON text, so every run's table
has the same columns whatever attributes its spans carry.
"""

from __future__ import annotations

from pathlib import Path

from publisher.otlp_json import SPAN_KINDS, STATUS_CODES, Span
from publisher.parquet_files import StreamingParquet, json_bytes
from publisher.schemas import PUBLISHED_SCHEMA_VERSION

_KINDS = len(SPAN_KINDS)
_CODES = len(STATUS_CODES)


class TraceRowWriter:
    """Appends spans as trace rows to a staged Parquet file; :meth:`commit` puts it in place."""

    def __init__(self, staging_dir: Path, run_id: str) -> None:
        self.run_id = run_id
        self._out = StreamingParquet(staging_dir, "traces")
        self._resource_json: tuple[object, bytes] = (None, b"{}")
        self._append = self._out.append

    @property
    def rows(self) -> int:
        return self._out.rows

    def add(self, span: Span) -> None:
        resource = span.resource
        if self._resource_json[0] is not resource:
            self._resource_json = (resource, json_bytes(resource.attributes))
        start, end = span.start_time_unix_nano, span.end_time_unix_nano
        # In the order of schemas.TRACES_COLUMNS.
        self._append((
            PUBLISHED_SCHEMA_VERSION,
            self.run_id,
            span.trace_id,
            span.span_id,
            span.parent_span_id,
            span.name,
            SPAN_KINDS[span.kind] if 0 <= span.kind < _KINDS else str(span.kind),
            start // 1000,
            end // 1000,
            start,
            end,
            max(0, end - start) / 1e6,
            STATUS_CODES[span.status_code] if 0 <= span.status_code < _CODES else str(span.status_code),
            span.status_message or None,
            json_bytes(span.attributes),
            json_bytes([e.as_dict() for e in span.events]) if span.events else b"[]",
            json_bytes([link.as_dict() for link in span.links]) if span.links else b"[]",
            self._resource_json[1],
            span.scope.name or None,
            span.scope.version or None,
            _text(resource.attributes.get("service.name")),
        ))  # fmt: skip

    def commit(self, final: Path) -> int:
        return self._out.commit(final)

    def abort(self) -> None:
        self._out.abort()


def _text(value: object) -> str | None:
    return None if value is None else str(value)
