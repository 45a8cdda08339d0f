"""Read one run's exports in a single streaming pass, and decide whether the run can be published.

Spans are deduplicated by (traceId, spanId), streamed to the trace rows file and fed to
the results collector; GPU points go to the compact series store. Then GPU points from
``<exports>/unassigned/`` (a shared sidecar started without a run id) are joined: those
whose resource ``host.name`` is a host the run's spans came from, that has no GPU data
of its own in the run, and whose time lies in the run window (in one of its attempts, for a
resumed run: not between them).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from publisher.dedup import SpanDeduplicator
from publisher.exports import ReadStats, export_files, read_documents, seconds_since_last_write
from publisher.gpu_series import HOST_NAME, GpuSeriesStore
from publisher.otlp_json import Resource, iter_spans
from publisher.results import ResultsCollector
from publisher.traces import TraceRowWriter
from smoltrace_otel.attributes import RUN_SPAN_NAME
from smoltrace_otel.errors import SmoltraceError, UsageError
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE, UNASSIGNED

logger = logging.getLogger(__name__)

DEFAULT_SETTLE_SECONDS = 3.0
"""A run whose files changed more recently than this is taken as still being written."""


class RunNotFoundError(UsageError):
    """No export directory, or no ``*.jsonl`` file in it, for the run id given."""


class EmptyRunError(SmoltraceError):
    """The run's files hold no span and no GPU metric."""


class RunInProgressError(SmoltraceError):
    """The run's files are still being written (or the run never ended)."""


@dataclass(frozen=True)
class CollectOptions:
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    allow_incomplete: bool = False


@dataclass
class CollectedRun:
    run_id: str
    results: ResultsCollector
    gpu: GpuSeriesStore
    traces: TraceRowWriter
    read: ReadStats
    duplicate_spans: int = 0
    spans_without_ids: int = 0
    joined_points: int = 0
    incomplete: list[str] = field(default_factory=list)
    """Why the run looks unfinished (published anyway with ``allow_incomplete``)."""


def available_runs(exports_dir: Path, limit: int = 5) -> list[str]:
    if not exports_dir.is_dir():
        return []
    names = sorted(p.name for p in exports_dir.iterdir() if p.is_dir() and p.name != UNASSIGNED)
    return names[:limit]


def collect_run(
    run_id: str, exports_dir: Path, staging_dir: Path, options: CollectOptions = CollectOptions()
) -> CollectedRun:
    """Read ``<exports_dir>/<run_id>/`` (and the matching ``unassigned`` GPU data); stage the trace rows."""
    run_dir = exports_dir / run_id
    files = export_files(run_dir)
    if not files:
        known = available_runs(exports_dir)
        hint = f" (runs there: {', '.join(known)})" if known else ""
        what = "has no *.jsonl files" if run_dir.is_dir() else "does not exist"
        raise RunNotFoundError(f"run {run_id!r} not found: {run_dir} {what}{hint}")
    incomplete = []
    age = seconds_since_last_write(files)
    if age is not None and age < options.settle_seconds:
        incomplete.append(f"its files were written {max(age, 0.0):.1f} s ago")
    if incomplete and not options.allow_incomplete:
        raise RunInProgressError(_in_progress_message(run_id, incomplete))

    collected = CollectedRun(
        run_id, ResultsCollector(staging_dir), GpuSeriesStore(), TraceRowWriter(staging_dir, run_id), ReadStats()
    )
    try:
        with _gc_paused():
            _read_run_dir(collected, files)
            _join_unassigned(collected, exports_dir / UNASSIGNED)
        _check_publishable(collected, incomplete, age, options)
    except BaseException:
        collected.traces.abort()
        collected.results.close()
        raise
    collected.incomplete = incomplete
    return collected


def _check_publishable(
    collected: CollectedRun, incomplete: list[str], age: float | None, options: CollectOptions
) -> None:
    """Raise when there is nothing to publish, or when the run looks unfinished (unless allowed)."""
    run_id, results, stats = collected.run_id, collected.results, collected.read
    if results.span_count == 0 and collected.gpu.points_read == 0:
        raise EmptyRunError(
            f"run {run_id!r} has nothing to publish: {stats.files} file(s), {stats.lines} line(s), "
            f"no spans and no GPU metrics ({stats.unparsable_lines} unparsable, {stats.torn_lines} torn)"
        )
    if results.run_span is None and (results.agent_spans or results.span_count == 0):
        incomplete.append(f"no '{RUN_SPAN_NAME}' span yet: the run has not ended (or was killed)")
    if stats.torn_files and age is not None and age < options.settle_seconds:
        incomplete.append(f"{len(stats.torn_files)} file(s) end in a line still being written")
    if incomplete and not options.allow_incomplete:
        raise RunInProgressError(_in_progress_message(run_id, incomplete))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading.

    Parsing allocates millions of short-lived containers without reference cycles, and
    each automatic collection would walk every object kept so far (the dedup set, the task
    roots): about a fifth of the publish time on a large export. Reference counting still
    frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _in_progress_message(run_id: str, reasons: list[str]) -> str:
    return (
        f"run {run_id!r} looks still in progress: {'; '.join(reasons)}. "
        "Publish it once it has finished, or pass --allow-incomplete to publish what is there as a partial run"
    )


def _read_run_dir(collected: CollectedRun, files: list[Path]) -> None:
    dedup = SpanDeduplicator()
    add_span, add_row, add_gpu = collected.results.add, collected.traces.add, collected.gpu.add_document
    first_time = dedup.first_time
    for signal, document in read_documents(files, collected.read):
        if signal == "spans":
            for span in iter_spans(document):
                if first_time(span.trace_id, span.span_id):
                    add_row(span)
                    add_span(span)
        elif signal == "metrics":
            add_gpu(document, "run")
    collected.duplicate_spans = dedup.duplicates
    collected.spans_without_ids = dedup.without_ids
    if dedup.duplicates:
        logger.info("%d duplicate span(s) dropped (retried exports)", dedup.duplicates)


MTIME_MARGIN_NS = 60 * 10**9


def _join_unassigned(collected: CollectedRun, unassigned_dir: Path) -> None:
    windows = collected.results.attempt_windows()
    hosts = collected.results.hosts - collected.gpu.hosts()
    files = export_files(unassigned_dir)
    if not windows or not hosts or not files:
        return
    # A file last written before the run started cannot hold points from the run window. File
    # times come from the kernel's coarse clock and can lag the SDK's timestamps by a few
    # milliseconds (more on some file systems), hence the margin.
    files = [f for f in files if f.stat().st_mtime * 1e9 >= windows[0][0] - MTIME_MARGIN_NS]
    before = collected.gpu.points_read

    def keep(resource: Resource, time_ns: int) -> bool:
        return (
            any(start <= time_ns <= end for start, end in windows)
            and resource.attributes.get(HOST_NAME) in hosts
            and resource.attributes.get(RUN_ID_ATTRIBUTE, UNASSIGNED) == UNASSIGNED
        )

    stats = ReadStats()
    for signal, document in read_documents(files, stats):
        if signal == "metrics":
            collected.gpu.add_document(document, UNASSIGNED, keep)
    collected.joined_points = collected.gpu.points_read - before
    collected.read.unparsable_lines += stats.unparsable_lines
    if collected.joined_points:
        logger.info(
            "joined %d GPU point(s) from %s (hosts %s, run window)",
            collected.joined_points,
            unassigned_dir,
            ", ".join(sorted(hosts)),
        )
