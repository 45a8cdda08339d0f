"""Parquet and JSON files written so that a crash never leaves half a file behind.

Every file is written to a temporary name in its destination directory, flushed to
disk, and renamed over the final name in one step (``os.replace``). Readers see either
the old complete file or the new complete file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from publisher.schemas import schema

COMPRESSION = "zstd"
BATCH_ROWS = 8192


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path next to ``final``; renamed over ``final`` when the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        _fsync(temp)
        os.replace(temp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _fsync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def write_rows(path: Path, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write ``rows`` (dicts) as a Parquet file with ``table``'s pinned schema, atomically."""
    arrow_schema = schema(table)
    columns = {name: [row.get(name) for row in rows] for name in arrow_schema.names}
    data = pa.Table.from_pydict(columns, schema=arrow_schema)
    with atomic_path(path) as temp:
        pq.write_table(data, temp, compression=COMPRESSION)
    return len(rows)


def write_json(path: Path, document: Any) -> None:
    """Write a JSON document atomically (keys in the order given; no NaN)."""
    with atomic_path(path) as temp, temp.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, ensure_ascii=False, allow_nan=False)


class StreamingParquet:
    """Rows appended column by column, written in batches to a temporary file, renamed at the end.

    Memory stays at one batch whatever the number of rows. :meth:`commit` moves the file
    to its final path (known only once all input was read); :meth:`abort` removes it.
    """

    def __init__(self, staging_dir: Path, table: str, batch_rows: int = BATCH_ROWS) -> None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{table}.", suffix=".parquet.tmp", dir=staging_dir)
        os.close(fd)
        self.temp = Path(name)
        self.schema = schema(table)
        self.columns: dict[str, list[Any]] = {n: [] for n in self.schema.names}
        self.batch_rows = batch_rows
        self.rows = 0
        self._pending = 0
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(self.temp, self.schema, compression=COMPRESSION)

    def flush_if_full(self) -> None:
        self._pending += 1
        self.rows += 1
        if self._pending >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._pending and self._writer is not None:
            self._writer.write_table(pa.Table.from_pydict(self.columns, schema=self.schema))
            for values in self.columns.values():
                values.clear()
            self._pending = 0

    def commit(self, final: Path) -> int:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        _fsync(self.temp)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.temp, final)
        return self.rows

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        with contextlib.suppress(FileNotFoundError):
            self.temp.unlink()


def json_text(value: Any) -> str:
    """Compact JSON text; non-finite numbers become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_json_stream(handle: IO[str], parts: Iterable[str]) -> None:
    for part in parts:
        handle.write(part)
