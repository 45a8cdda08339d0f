"""Local output: one run's results, traces, metrics, metric_data and leaderboard row, laid out like the Hub.

The files go where :class:`publisher.layout.RunLayout` says, each written atomically
(temporary file, then rename), so a crash never leaves half a file and a later
``--output-format hub`` can push exactly these files. Publishing the same run again
rewrites identical bytes: rows are ordered deterministically and nothing depends on the
clock.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from publisher import metric_data as md
from publisher.collect import CollectedRun, CollectOptions, collect_run
from publisher.energy import EnergySettings
from publisher.exports import ReadStats
from publisher.gpu import aggregate_streams
from publisher.layout import REPOS, Repo, RunLayout, month_of
from publisher.leaderboard import RunFacts, compute_leaderboard_row
from publisher.metric_rows import write_metric_rows
from publisher.parquet_files import write_row_stream, write_rows
from publisher.run_facts import run_facts
from publisher.totals import ResultTotals
from smoltrace_otel import attributes as A

logger = logging.getLogger(__name__)

STAGING_DIR = ".staging"


@dataclass(frozen=True)
class PublishRequest:
    run_id: str
    exports_dir: Path
    output_dir: Path
    energy: EnergySettings = field(default_factory=EnergySettings)
    collect: CollectOptions = field(default_factory=CollectOptions)
    submitted_by: str | None = None


@dataclass
class PublishedRun:
    """What a local publish wrote, for the CLI summary and for the Hub half."""

    layout: RunLayout
    leaderboard_row: dict[str, Any]
    results_rows: int
    trace_rows: int
    metric_rows: int
    read: ReadStats
    duplicate_spans: int
    joined_points: int
    incomplete: list[str]

    def files(self) -> list[Path]:
        """Every file of the run, in repository order (the Hub half pushes these)."""
        return [path for repo in REPOS for path, _ in self.layout.files_for(repo)]


def publish_local(request: PublishRequest) -> PublishedRun:
    """Read the run's exports and write its local dataset files; returns what was written."""
    staging = request.output_dir / STAGING_DIR
    collected = collect_run(request.run_id, request.exports_dir, staging, request.collect)
    try:
        return _write(request, collected, staging)
    except BaseException:
        collected.traces.abort()
        raise
    finally:
        collected.results.close()
        remove_if_empty(staging)


def _write(request: PublishRequest, collected: CollectedRun, staging: Path) -> PublishedRun:
    run_id = request.run_id
    results = collected.results
    window = results.window()
    start = window[0] if window else (collected.gpu.time_range() or (0, 0))[0]
    layout = RunLayout(request.output_dir, run_id, month_of(start))

    trace_rows = collected.traces.commit(layout.data_file("traces"))
    results_file = layout.data_file("results")
    totals, seen = ResultTotals(), _Seen()
    result_rows = write_row_stream(staging, "results", seen.watch(results.results_rows(run_id), totals), results_file)

    gpu = aggregate_streams(collected.gpu.streams(), window_start=window[0] if window else None, energy=request.energy)
    aggregates = md.build_aggregates(
        totals,
        (results.span_count, results.error_spans),
        gpu,
        request.energy.grid_intensity_g_per_kwh,
        request.energy.pue,
    )
    metric_data = md.build_metric_data(run_id, collected.gpu, aggregates, gpu)
    metric_rows = write_metric_rows(collected.gpu, run_id, staging, layout.data_file("metrics"))
    md.write_metric_data(layout.raw_metrics_file(), metric_data)

    run_attrs = results.run_span.attributes if results.run_span else {}
    agent_types = sorted(seen.agent_types)
    agent_type = str(run_attrs.get(A.RUN_AGENT_TYPE) or (agent_types[0] if len(agent_types) == 1 else "both"))
    row = compute_leaderboard_row(
        model_name=str(run_attrs.get(A.RUN_MODEL) or seen.most_used_model() or "unknown"),
        all_results=totals,  # gathered while the rows streamed to results_file
        trace_data=results.trace_summaries(),
        metric_data=metric_data,
        dataset_used=_text(run_attrs.get(A.RUN_DATASET)),
        results_dataset=local_link(layout, "results"),
        traces_dataset=local_link(layout, "traces"),
        metrics_dataset=local_link(layout, "metrics"),
        agent_type=agent_type,
        run_id=run_id,
        provider=str(run_attrs.get(A.RUN_PROVIDER) or "litellm"),
        submitted_by=request.submitted_by,
        run=_run_facts(collected, window),
    )
    write_leaderboard_row(layout, row)
    logger.info("published run %s locally under %s", run_id, request.output_dir)
    return PublishedRun(
        layout=layout,
        leaderboard_row=row,
        results_rows=result_rows,
        trace_rows=trace_rows,
        metric_rows=metric_rows,
        read=collected.read,
        duplicate_spans=collected.duplicate_spans,
        joined_points=collected.joined_points,
        incomplete=collected.incomplete,
    )


def write_leaderboard_row(layout: RunLayout, row: dict[str, Any]) -> Path:
    """Write (or rewrite, e.g. with Hub commit ids filled in) the run's leaderboard row file."""
    path = layout.data_file("leaderboard")
    write_rows(path, "leaderboard", [row])
    return path


def read_leaderboard_row(layout: RunLayout) -> dict[str, Any]:
    """The run's leaderboard row as written by :func:`write_leaderboard_row`."""
    return pq.read_table(layout.data_file("leaderboard")).to_pylist()[0]


def local_link(layout: RunLayout, repo: Repo) -> str:
    """Where a table's file is, relative to the output directory (portable, and the same on every publish)."""
    return f"{repo}/{layout.data_path_in_repo(repo)}"


def _run_facts(collected: CollectedRun, window: tuple[int, int] | None) -> RunFacts:
    return run_facts(
        collected.results.run_spans, start_unix_nano=window[0] if window else None, notes=_notes(collected)
    )


def _notes(collected: CollectedRun) -> str | None:
    stats = collected.read
    parts = []
    if stats.unparsable_lines:
        parts.append(f"{stats.unparsable_lines} unparsable line(s) skipped")
    if stats.torn_lines:
        parts.append(f"{stats.torn_lines} torn line(s) skipped")
    if collected.duplicate_spans:
        parts.append(f"{collected.duplicate_spans} duplicate span(s) dropped")
    if collected.results.superseded_attempts:
        parts.append(
            f"{collected.results.superseded_attempts} earlier task attempt(s) replaced by a later one (resumed run)"
        )
    if collected.spans_without_ids:
        parts.append(f"{collected.spans_without_ids} span(s) without ids kept")
    if collected.gpu.duplicate_points:
        parts.append(f"{collected.gpu.duplicate_points} duplicate GPU point(s) dropped")
    if collected.joined_points:
        parts.append(f"{collected.joined_points} GPU point(s) joined from unassigned/")
    parts.extend(f"incomplete: {reason}" for reason in collected.incomplete)
    return "; ".join(parts) or None


class _Seen:
    """Models and agent types of the results rows, noted while the rows stream to their file."""

    def __init__(self) -> None:
        self.models: Counter[str] = Counter()
        self.agent_types: set[str] = set()

    def watch(self, rows: Iterable[dict[str, Any]], totals: ResultTotals) -> Iterator[dict[str, Any]]:
        for row in rows:
            totals.add(row)
            if row.get("model"):
                self.models[row["model"]] += 1
            if row.get("agent_type"):
                self.agent_types.add(row["agent_type"])
            yield row

    def most_used_model(self) -> str | None:
        return min(self.models, key=lambda m: (-self.models[m], m)) if self.models else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def remove_if_empty(directory: Path) -> None:
    if directory.is_dir() and not any(directory.iterdir()):
        shutil.rmtree(directory, ignore_errors=True)
