"""Records spilled to a temporary file and read back in sorted order, so memory does not grow with them.

Used for the task roots of a large run: each record (a tuple of plain values) is written
as MessagePack; only its sort key and file position stay in memory.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

_ENCODE = msgspec.msgpack.Encoder().encode
_DECODE = msgspec.msgpack.Decoder().decode


class RecordSpill:
    """Append records with a sort key; :meth:`sorted_records` yields them by key (ties by arrival)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".spill.", suffix=".tmp", dir=directory)
        self._fd = fd
        self.path = Path(name)
        self._offset = 0
        self._index: list[tuple[Any, int, int, int]] = []

    def __len__(self) -> int:
        return len(self._index)

    def add(self, key: Any, record: tuple[Any, ...]) -> None:
        data = _ENCODE(record)
        os.write(self._fd, data)
        self._index.append((key, len(self._index), self._offset, len(data)))
        self._offset += len(data)

    def sorted_records(self) -> Iterator[tuple[Any, ...]]:
        self._index.sort()
        for _key, _n, offset, length in self._index:
            yield tuple(_DECODE(os.pread(self._fd, length, offset)))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
