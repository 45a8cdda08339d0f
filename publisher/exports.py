"""Streaming reader for a run's export directory: one JSON document per line, bounded memory.

Every ``*.jsonl`` file of the directory is read (the Collector's ``traces.jsonl``,
``metrics.jsonl``, ``logs.jsonl`` and their rotated backups, and the embedded mode's
``<signal>-<service>-<host>-<pid>.jsonl``), line by line, in file-name order. Each line is
classified by its top-level key. A file is read only up to its last newline: what follows
is a line still being written (or left half-written by a crash) and is counted as torn,
never parsed. Lines that do not parse are counted and logged, never fatal. Files are
opened read-only; nothing here moves, truncates or deletes them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from publisher.otlp_schema import Document, decode_document

logger = logging.getLogger(__name__)

Signal = Literal["spans", "metrics", "logs"]
_TOP_KEYS: tuple[tuple[str, Signal], ...] = (
    ("resourceSpans", "spans"),
    ("resourceMetrics", "metrics"),
    ("resourceLogs", "logs"),
)
MAX_LOGGED_BAD_LINES = 5
"""Unparsable lines logged one by one at WARNING; the rest only at DEBUG (all are counted)."""


@dataclass
class ReadStats:
    """What reading a directory found, for the user and for the 'still being written' checks."""

    files: int = 0
    bytes_read: int = 0
    lines: int = 0
    documents: dict[str, int] = field(default_factory=lambda: {"spans": 0, "metrics": 0, "logs": 0})
    unparsable_lines: int = 0
    unknown_lines: int = 0
    torn_lines: int = 0
    torn_files: list[str] = field(default_factory=list)
    newest_mtime: float | None = None

    def merge(self, other: ReadStats) -> None:
        self.files += other.files
        self.bytes_read += other.bytes_read
        self.lines += other.lines
        for key, count in other.documents.items():
            self.documents[key] = self.documents.get(key, 0) + count
        self.unparsable_lines += other.unparsable_lines
        self.unknown_lines += other.unknown_lines
        self.torn_lines += other.torn_lines
        self.torn_files.extend(other.torn_files)
        if other.newest_mtime is not None:
            self.newest_mtime = max(self.newest_mtime or 0.0, other.newest_mtime)


def export_files(directory: Path) -> list[Path]:
    """The ``*.jsonl`` files of a run directory, in name order (regular files only)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.jsonl") if p.is_file())


def seconds_since_last_write(paths: list[Path], now: float | None = None) -> float | None:
    """Seconds since the most recent modification of any of ``paths`` (``None`` if none)."""
    if not paths:
        return None
    newest = max(os.stat(p).st_mtime for p in paths)
    return (time.time() if now is None else now) - newest


def read_documents(paths: list[Path], stats: ReadStats) -> Iterator[tuple[Signal, Document]]:
    """Yield ``(signal, document)`` for every complete, parsable line of ``paths``; count the rest."""
    bad_logged = 0
    for path in paths:
        stats.files += 1
        mtime = os.stat(path).st_mtime
        stats.newest_mtime = mtime if stats.newest_mtime is None else max(stats.newest_mtime, mtime)
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                stats.bytes_read += len(raw)
                if not raw.endswith(b"\n"):
                    stats.torn_lines += 1
                    stats.torn_files.append(str(path))
                    logger.warning(
                        "%s: line %d has no newline yet (%d bytes): still being written or torn; skipped",
                        path,
                        number,
                        len(raw),
                    )
                    break
                if raw.isspace():
                    continue
                stats.lines += 1
                try:
                    document = decode_document(raw)
                except ValueError as error:
                    stats.unparsable_lines += 1
                    level = logging.WARNING if bad_logged < MAX_LOGGED_BAD_LINES else logging.DEBUG
                    bad_logged += 1
                    logger.log(level, "%s: line %d skipped: %s", path, number, str(error)[:160])
                    continue
                signal = _classify(document)
                if signal is None:
                    stats.unknown_lines += 1
                    logger.debug("%s: line %d has no resourceSpans/resourceMetrics/resourceLogs", path, number)
                    continue
                stats.documents[signal] += 1
                yield signal, document
    if bad_logged > MAX_LOGGED_BAD_LINES:
        logger.warning("%d unparsable lines skipped in all (see -v for each)", bad_logged)


def _classify(document: Document) -> Signal | None:
    for key, signal in _TOP_KEYS:
        if getattr(document, key) is not None:
            return signal
    return None
