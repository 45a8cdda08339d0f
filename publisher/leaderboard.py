"""The leaderboard row of a run: the brief's ``compute_leaderboard_row`` and its rules.

Totals and rates follow ``totals.py``. ``run_status`` (also in docs/publisher.md):
``failed`` when no task was scored; ``partial`` when some were but the run span is
missing (the run did not end cleanly), the run reports ``interrupted`` or ``failed`` or
an error status, shards of the run are missing, or fewer tasks were scored than planned;
``completed`` otherwise (also when no run facts are given at all). With several run
spans (resumed attempts, shards) the facts are combined by ``run_facts.py``. A consumer
should not rank ``partial`` or ``failed`` rows with completed ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from publisher import metric_data as md
from publisher.energy import EnergySettings
from publisher.gpu import aggregate_gpu_metrics
from publisher.schemas import PUBLISHED_SCHEMA_VERSION
from publisher.totals import ResultTotals

STATUS_ERROR = 2
Rows = Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class RunFacts:
    """What the run spans say about the run (``span_present=False`` when there is none; see ``run_facts.py``)."""

    span_present: bool
    status: str | None = None
    span_status_code: int = 0
    planned_tasks: int | None = None
    start_unix_nano: int | None = None
    dataset_revision: str | None = None
    notes: str | None = None
    missing_shards: int = 0
    """Shards ``I/N`` of the run with no run span at all."""


def _selected(all_results: Mapping[str, Rows] | Rows, agent_type: str) -> Rows:
    if isinstance(all_results, Mapping):
        if agent_type == "both":
            return itertools.chain.from_iterable(all_results.values())
        return all_results.get(agent_type, [])
    return (r for r in all_results if agent_type == "both" or r.get("agent_type") == agent_type)


def run_status(scored: int, run: RunFacts | None) -> str:
    """``completed``, ``partial`` or ``failed`` (rule in the module docstring)."""
    if scored == 0:
        return "failed"
    if run is None:
        return "completed"
    if not run.span_present or run.status in ("interrupted", "failed") or run.span_status_code == STATUS_ERROR:
        return "partial"
    if run.missing_shards:
        return "partial"
    if run.planned_tasks is not None and scored < run.planned_tasks:
        return "partial"
    return "completed"


def compute_leaderboard_row(  # noqa: PLR0917 - the brief's signature
    model_name: str,
    all_results: Mapping[str, Rows] | Rows | ResultTotals,
    trace_data: Iterable[Mapping[str, Any]],
    metric_data: Mapping[str, Any],
    dataset_used: str | None,
    results_dataset: str | None,
    traces_dataset: str | None,
    metrics_dataset: str | None,
    agent_type: str = "both",
    run_id: str | None = None,
    provider: str = "litellm",
    *,
    submitted_by: str | None = None,
    run: RunFacts | None = None,
) -> dict[str, Any]:
    """One leaderboard row (``schemas.LEADERBOARD_COLUMNS``) for a run.

    ``all_results`` maps agent type to results rows (as the brief has it); a plain
    iterable of rows works too, and rows are read once, so they may stream from a file.
    A :class:`~publisher.totals.ResultTotals` already gathered over the rows may be given
    instead (the publisher gathers it while writing the results table).
    ``trace_data`` holds the per-trace summaries, ``metric_data`` the brief's dictionary.
    GPU figures come from ``metric_data["resourceMetrics"]``; energy and CO2 from its
    aggregates (computed over the run window), else from the GPU data.
    """
    totals = (
        all_results if isinstance(all_results, ResultTotals) else ResultTotals.of(_selected(all_results, agent_type))
    )
    spans = errors = 0
    traces = 0
    for summary in trace_data:
        traces += 1
        spans += summary.get("span_count", 0)
        errors += summary.get("error_spans", 0)
    aggregates = list(metric_data.get("aggregates") or []) if metric_data else []
    gpu = aggregate_gpu_metrics(metric_data.get("resourceMetrics") or [] if metric_data else [])
    defaults = EnergySettings()

    def figure(name: str, fallback: Any) -> Any:
        return md.find_aggregate(aggregates, name) if md.has_aggregate(aggregates, name) else fallback

    start = run.start_unix_nano if run and run.start_unix_nano else totals.first_start
    reasons = totals.stop_reasons
    return {
        "schema_version": PUBLISHED_SCHEMA_VERSION,
        "run_id": run_id,
        "model": model_name,
        "agent_type": agent_type,
        "provider": provider,
        "submitted_by": submitted_by,
        "timestamp": datetime.fromtimestamp(start / 1e9, tz=UTC) if start else None,
        "run_status": run_status(totals.scored, run),
        "dataset_used": dataset_used,
        "dataset_revision": run.dataset_revision if run else None,
        "results_dataset": results_dataset,
        "traces_dataset": traces_dataset,
        "metrics_dataset": metrics_dataset,
        "results_commit": None,
        "traces_commit": None,
        "metrics_commit": None,
        "planned_tests": run.planned_tasks if run else None,
        "total_tests": totals.scored,
        "successful_tests": totals.successful,
        "failed_tests": totals.failed,
        "interrupted_tests": reasons["interrupted"],
        "timed_out_tests": reasons["timeout"],
        "max_steps_tests": reasons["max_steps"],
        "errored_tests": reasons["error"],
        "success_rate": totals.success_rate,
        "pass_at_1": totals.pass_at_1,
        "avg_steps": totals.avg_steps,
        "avg_duration_ms": totals.avg_duration_ms,
        "total_duration_ms": totals.total("duration_ms"),
        "total_prompt_tokens": totals.total("prompt_tokens"),
        "total_completion_tokens": totals.total("completion_tokens"),
        "total_tokens": totals.total("total_tokens"),
        "avg_tokens_per_test": totals.average("total_tokens"),
        "total_cost_usd": totals.total("cost_usd"),
        "avg_cost_per_test_usd": totals.average("cost_usd"),
        "total_spans": spans if traces else None,
        "error_spans": errors if traces else None,
        "hardware": gpu["hardware"],
        "gpu_count": gpu["gpu_count"] or None,
        "gpu_utilization_avg": gpu["utilization_avg"],
        "gpu_utilization_max": gpu["utilization_max"],
        "gpu_memory_avg_mib": gpu["memory_avg"],
        "gpu_memory_max_mib": gpu["memory_max"],
        "gpu_temperature_avg": gpu["temperature_avg"],
        "gpu_temperature_max": gpu["temperature_max"],
        "gpu_power_avg_w": gpu["power_avg"],
        "gpu_power_max_w": gpu["power_max"],
        "energy_wh": figure(md.AGG_ENERGY_WH, gpu["energy_wh"]),
        "energy_source": figure(md.AGG_ENERGY_SOURCE, gpu["energy_source"]),
        "co2_emissions_g": figure(md.AGG_CO2_G, gpu["co2_g"]),
        "grid_intensity_g_per_kwh": figure(md.AGG_GRID_INTENSITY, defaults.grid_intensity_g_per_kwh),
        "pue": figure(md.AGG_PUE, defaults.pue),
        "notes": run.notes if run else None,
    }
