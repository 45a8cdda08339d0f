"""Filling the staged leaderboard row with what only the Hub knows: dataset ids, commits, submitter.

The row links the run's three datasets and the commits that hold its files, and names
who submitted it (the token's user). The staged Parquet file is rewritten in place,
atomically, keeping its schema (columns it lacks are appended as nullable strings) and
its compression; it is left untouched when the values are already there, so a re-publish
produces the same bytes and no new commit.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

LINK_COLUMNS = (
    "results_dataset",
    "traces_dataset",
    "metrics_dataset",
    "results_commit",
    "traces_commit",
    "metrics_commit",
    "submitted_by",
)


def _compression(path: Path) -> str:
    metadata = pq.ParquetFile(path).metadata
    if metadata.num_row_groups == 0 or metadata.num_columns == 0:
        return "snappy"
    codec = metadata.row_group(0).column(0).compression
    return "none" if codec == "UNCOMPRESSED" else codec.lower()


def fill_links(path: Path, values: Mapping[str, str | None]) -> bool:
    """Set ``values`` (column -> value for every row) in the Parquet file; True when the file changed."""
    table = pq.read_table(path)
    if all(
        name in table.column_names and table.column(name).to_pylist() == [value] * table.num_rows
        for name, value in values.items()
    ):
        return False
    for name, value in values.items():
        if name in table.column_names:
            index = table.schema.get_field_index(name)
            schema_field = table.schema.field(index)
            column = pa.array([value] * table.num_rows, type=pa.string()).cast(schema_field.type)
            table = table.set_column(index, schema_field, column)
        else:
            table = table.append_column(
                pa.field(name, pa.string(), nullable=True), pa.array([value] * table.num_rows, pa.string())
            )
    compression = _compression(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, temporary, compression=compression)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
