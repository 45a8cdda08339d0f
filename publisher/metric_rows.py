"""The metrics table: one row per GPU data point, written stream by stream with vectorised columns.

Each stream's points sit in flat arrays (``gpu_series.Stream``), so its columns are built
from those buffers directly; only the per-stream constants are Python values.
"""

from __future__ import annotations

from array import array
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from publisher.gpu_series import CANONICAL_UNIT, GpuSeriesStore, Stream
from publisher.otlp_json import TEMPORALITIES
from publisher.parquet_files import StreamingParquet, json_text
from publisher.schemas import PUBLISHED_SCHEMA_VERSION, TIMESTAMP

CHUNK = 65536


def _buffer(values: array, kind: pa.DataType) -> pa.Array:
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _stream_table(stream: Stream, begin: int, end: int, run_id: str, schema: pa.Schema) -> pa.Table:
    rows = end - begin
    times = _buffer(stream.times[begin:end], pa.int64())
    raw = _buffer(stream.values[begin:end], pa.float64())
    values = pc.if_else(pc.is_nan(raw), pa.scalar(None, pa.float64()), raw)
    canonical = pc.multiply(values, stream.factor) if stream.factor is not None else pa.nulls(rows, pa.float64())
    temporality = TEMPORALITIES[stream.temporality] if stream.kind == "sum" and stream.temporality < 3 else None
    service = stream.resource.attributes.get("service.name")
    constants = {
        "schema_version": PUBLISHED_SCHEMA_VERSION,
        "run_id": run_id,
        "metric": stream.name,
        "unit": stream.unit,
        "quantity": stream.quantity,
        "canonical_unit": CANONICAL_UNIT[stream.quantity],
        "kind": stream.kind,
        "temporality": temporality,
        "gpu_id": stream.gpu_id,
        "gpu_name": stream.gpu_name,
        "host_name": stream.host or None,
        "service_name": None if service is None else str(service),
        "source": stream.source,
        "attributes": json_text(stream.attributes),
    }
    columns = {
        "timestamp": pc.divide(times, 1000).cast(TIMESTAMP),
        "time_unix_nano": times,
        "start_time_unix_nano": _buffer(stream.starts[begin:end], pa.int64()),
        "value": values,
        "canonical_value": canonical,
    }
    arrays = [
        columns[f.name] if f.name in columns else pa.repeat(pa.scalar(constants[f.name], f.type), rows) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_metric_rows(store: GpuSeriesStore, run_id: str, staging_dir: Path, final: Path) -> int:
    """Write the metrics table of the run's GPU streams to ``final`` (atomically); returns the row count."""
    out = StreamingParquet(staging_dir, "metrics")
    try:
        for stream in store.streams():
            for begin in range(0, len(stream), CHUNK):
                out.write_table(_stream_table(stream, begin, min(begin + CHUNK, len(stream)), run_id, out.schema))
        return out.commit(final)
    except BaseException:
        out.abort()
        raise
