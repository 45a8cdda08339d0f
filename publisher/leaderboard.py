"""The leaderboard row of a run: the brief's ``compute_leaderboard_row`` and its rules.

Rules (also in docs/publisher.md):

* Scored tasks are the results rows whose ``stop_reason`` is not ``interrupted`` (a task
  cut short by Ctrl-C or SIGTERM was never finished, so it is neither a success nor a
  failure). ``total_tests``, ``successful_tests``, ``success_rate``, ``pass_at_1``,
  ``avg_steps`` and ``avg_duration_ms`` are over scored tasks.
* Totals (tokens, cost, duration) are sums over all results rows: tokens spent on an
  interrupted task were still spent. They are null when no row reported the figure.
* ``pass_at_1``: for each task id, the fraction of its scored attempts that succeeded
  (the unbiased pass@1 estimator, c/n); then the mean over task ids, in percent. With one
  attempt per task it equals ``success_rate``.
* ``run_status``: ``failed`` when no task was scored; ``partial`` when some were but the
  run span is missing (the run did not end cleanly), the run reports ``interrupted`` or
  ``failed`` or an error status, or fewer tasks were scored than planned; ``completed``
  otherwise. A consumer should not rank ``partial`` or ``failed`` rows with completed ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import fmean
from typing import Any

from publisher import metric_data as md
from publisher.energy import EnergySettings
from publisher.gpu import aggregate_gpu_metrics
from publisher.schemas import PUBLISHED_SCHEMA_VERSION

STATUS_ERROR = 2


@dataclass(frozen=True)
class RunFacts:
    """What the run span says about the run (``span_present=False`` when there is none)."""

    span_present: bool
    status: str | None = None
    span_status_code: int = 0
    planned_tasks: int | None = None
    start_unix_nano: int | None = None
    dataset_revision: str | None = None
    notes: str | None = None


def _selected(
    all_results: Mapping[str, list[dict[str, Any]]] | Iterable[dict[str, Any]], agent_type: str
) -> list[dict[str, Any]]:
    if isinstance(all_results, Mapping):
        if agent_type == "both":
            return [row for rows in all_results.values() for row in rows]
        return list(all_results.get(agent_type, []))
    return [r for r in all_results if agent_type == "both" or r.get("agent_type") == agent_type]


def _sum(rows: list[dict[str, Any]], key: str) -> Any:
    values = [r[key] for r in rows if r.get(key) is not None]
    return sum(values) if values else None


def _mean(values: list[Any]) -> float | None:
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


def pass_at_1(rows: list[dict[str, Any]]) -> float | None:
    """Mean over task ids of each id's success fraction, in percent (``None`` without rows)."""
    attempts: dict[Any, list[bool]] = defaultdict(list)
    for row in rows:
        attempts[row.get("task_id")].append(row.get("success") is True)
    if not attempts:
        return None
    return fmean(sum(a) / len(a) for a in attempts.values()) * 100.0


def run_status(scored: int, run: RunFacts | None) -> str:
    """``completed``, ``partial`` or ``failed`` (rule in the module docstring)."""
    if scored == 0:
        return "failed"
    if run is None:
        return "completed"
    if not run.span_present or run.status in ("interrupted", "failed") or run.span_status_code == STATUS_ERROR:
        return "partial"
    if run.planned_tasks is not None and scored < run.planned_tasks:
        return "partial"
    return "completed"


def compute_leaderboard_row(  # noqa: PLR0917 - the brief's signature
    model_name: str,
    all_results: Mapping[str, list[dict[str, Any]]] | Iterable[dict[str, Any]],
    trace_data: list[dict[str, Any]],
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

    ``all_results`` maps agent type to results rows (as the brief has it); a plain list
    of rows works too. ``trace_data`` holds the per-trace summaries, ``metric_data`` the
    brief's dictionary. GPU figures come from ``metric_data["resourceMetrics"]``; energy
    and CO2 from its aggregates (computed over the run window), else from the GPU data.
    """
    rows = _selected(all_results, agent_type)
    scored = [r for r in rows if r.get("stop_reason") != "interrupted"]
    successful = sum(1 for r in scored if r.get("success") is True)
    stop_reasons = defaultdict(int)
    for r in rows:
        stop_reasons[r.get("stop_reason")] += 1
    total_tokens = _sum(rows, "total_tokens")
    with_tokens = sum(1 for r in rows if r.get("total_tokens") is not None)
    total_cost = _sum(rows, "cost_usd")
    with_cost = sum(1 for r in rows if r.get("cost_usd") is not None)

    aggregates = list(metric_data.get("aggregates") or []) if metric_data else []
    gpu = aggregate_gpu_metrics(metric_data.get("resourceMetrics") or []) if metric_data else aggregate_gpu_metrics([])
    defaults = EnergySettings()

    def figure(name: str, fallback: Any) -> Any:
        return md.find_aggregate(aggregates, name) if md.has_aggregate(aggregates, name) else fallback

    start = (
        run.start_unix_nano
        if run and run.start_unix_nano
        else min((r["start_time_unix_nano"] for r in rows), default=None)
    )

    return {
        "schema_version": PUBLISHED_SCHEMA_VERSION,
        "run_id": run_id,
        "model": model_name,
        "agent_type": agent_type,
        "provider": provider,
        "submitted_by": submitted_by,
        "timestamp": datetime.fromtimestamp(start / 1e9, tz=UTC) if start else None,
        "run_status": run_status(len(scored), run),
        "dataset_used": dataset_used,
        "dataset_revision": run.dataset_revision if run else None,
        "results_dataset": results_dataset,
        "traces_dataset": traces_dataset,
        "metrics_dataset": metrics_dataset,
        "results_commit": None,
        "traces_commit": None,
        "metrics_commit": None,
        "planned_tests": run.planned_tasks if run else None,
        "total_tests": len(scored),
        "successful_tests": successful,
        "failed_tests": len(scored) - successful,
        "interrupted_tests": stop_reasons["interrupted"],
        "timed_out_tests": stop_reasons["timeout"],
        "max_steps_tests": stop_reasons["max_steps"],
        "errored_tests": stop_reasons["error"],
        "success_rate": successful / len(scored) * 100.0 if scored else None,
        "pass_at_1": pass_at_1(scored),
        "avg_steps": _mean([r.get("steps") for r in scored]),
        "avg_duration_ms": _mean([r.get("duration_ms") for r in scored]),
        "total_duration_ms": _sum(rows, "duration_ms"),
        "total_prompt_tokens": _sum(rows, "prompt_tokens"),
        "total_completion_tokens": _sum(rows, "completion_tokens"),
        "total_tokens": total_tokens,
        "avg_tokens_per_test": total_tokens / with_tokens if with_tokens else None,
        "total_cost_usd": total_cost,
        "avg_cost_per_test_usd": total_cost / with_cost if with_cost else None,
        "total_spans": sum(t.get("span_count", 0) for t in trace_data) if trace_data else None,
        "error_spans": sum(t.get("error_spans", 0) for t in trace_data) if trace_data else None,
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
