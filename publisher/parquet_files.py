"""Parquet and JSON files written so that a crash never leaves half a file behind.

Every file is written to a temporary name in its destination directory, flushed to
disk, and renamed over the final name in one step (``os.replace``). Readers see either
the old complete file or the new complete file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from publisher.schemas import dictionary_columns, schema

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
    """Rows (tuples in the schema's column order) written in batches to a temporary file, renamed at the end.

    Memory stays at one batch whatever the number of rows. :meth:`commit` moves the file
    to its final path (known only once all input was read); :meth:`abort` removes it.
    """

    def __init__(self, staging_dir: Path, table: str, batch_rows: int = BATCH_ROWS) -> None:
        staging_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{table}.", suffix=".parquet.tmp", dir=staging_dir)
        os.close(fd)
        self.temp = Path(name)
        self.schema = schema(table)
        self.batch_rows = batch_rows
        self.rows = 0
        self._batch: list[tuple[Any, ...]] = []
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self.temp, self.schema, compression=COMPRESSION, use_dictionary=dictionary_columns(table)
        )

    def append(self, row: tuple[Any, ...]) -> None:
        batch = self._batch
        batch.append(row)
        if len(batch) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._batch and self._writer is not None:
            columns = zip(*self._batch, strict=True)
            arrays = [pa.array(values, type=f.type) for values, f in zip(columns, self.schema, strict=True)]
            self._writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
            self.rows += len(self._batch)
            self._batch = []

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


_encode = msgspec.json.Encoder().encode


def write_row_stream(staging_dir: Path, table: str, rows: Iterable[Mapping[str, Any]], final: Path) -> int:
    """Write row dicts as they come (any number of them) to ``final``, atomically; returns the row count."""
    out = StreamingParquet(staging_dir, table)
    names = out.schema.names
    try:
        for row in rows:
            out.append(tuple(row.get(name) for name in names))
        return out.commit(final)
    except BaseException:
        out.abort()
        raise


def read_rows(path: Path, columns: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file as dicts, one batch in memory at a time."""
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=list(columns) if columns else None):
        yield from batch.to_pylist()


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON (a Parquet string column takes the bytes as they are).

    Non-finite numbers are written as ``null``; keys that are not text are written as text.
    """
    try:
        return _encode(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def json_text(value: Any) -> str:
    """:func:`json_bytes` as text."""
    return json_bytes(value).decode()
