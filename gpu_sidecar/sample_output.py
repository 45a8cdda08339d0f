"""Writing a sample: whole files only, never over existing data unless asked, dated at the run's end.

Each file is written to a temporary name in its directory and renamed into place, so a
reader (the publisher, a dashboard) never sees half of it. Its modification time is set to
the sample run's end (or now, if that is later than now), so the publisher sees a run that
finished then, not one still being written.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gpu_sidecar.otlp_encode import dumps
from smoltrace_otel.errors import SmoltraceError, UsageError


class OutputExistsError(UsageError):
    """A file the sample would write is already there (and ``--overwrite`` was not given)."""


def refuse_existing(paths: Iterable[Path], overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` when any of ``paths`` exists and ``overwrite`` is false."""
    if overwrite:
        return
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise OutputExistsError(f"{', '.join(existing)} already exists; pass --overwrite to replace it")


def write_lines(path: Path, documents: Iterable[Mapping[str, Any]], end_s: float) -> int:
    """Write one compact JSON document per line; returns the number of lines."""
    count = 0

    def lines() -> Iterable[str]:
        nonlocal count
        for document in documents:
            count += 1
            yield dumps(document) + "\n"

    _write(path, lines(), end_s)
    return count


def write_json(path: Path, document: Mapping[str, Any], end_s: float) -> None:
    """Write one JSON document (compact, one line, ending in a newline)."""
    _write(path, [json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"], end_s)


def _write(path: Path, chunks: Iterable[str], end_s: float) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with temp.open("w", encoding="utf-8", newline="\n") as out:
            for chunk in chunks:
                out.write(chunk)
        mtime = min(end_s, time.time())
        os.utime(temp, (mtime, mtime))
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise SmoltraceError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
