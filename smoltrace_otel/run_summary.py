"""The short summary ``smoltrace run`` prints: headline figures and where every output went."""

from __future__ import annotations

from typing import Any, TextIO

from smoltrace_otel.pipeline import RunOutcome


def _fmt(value: Any, spec: str = "", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def print_summary(outcome: RunOutcome, out: TextIO) -> None:
    """Write the run's summary to ``out`` (the CLI's own output, so plain text)."""
    lines = [f"smoltrace run {outcome.run_id} ({outcome.model}, telemetry: {outcome.mode})"]
    summary = outcome.summary
    if summary is not None:
        lines.append(
            f"  tasks        {summary.completed}/{summary.planned} run, {summary.succeeded} succeeded, "
            f"{summary.errors} error(s)" + (", interrupted" if summary.interrupted else "")
        )
        if summary.fatal_error:
            lines.append(f"  run failed   {summary.fatal_error}")
        if summary.spans_undelivered:
            lines.append(f"  telemetry    {summary.spans_undelivered} span(s) could not be delivered")
        if summary.unapplied_params:
            lines.append(f"  not applied  {', '.join(summary.unapplied_params)} (the provider ignored them)")
    if outcome.skipped_tasks:
        lines.append(f"  resumed      {outcome.skipped_tasks} task(s) had already finished and were kept")
    lines.extend(f"  note         {notice}" for notice in outcome.notices)
    lines.append(f"  GPU          {outcome.gpu_notice}")
    published = outcome.published
    if published is not None:
        row = published.leaderboard_row
        lines.append(
            f"  leaderboard  {row['run_status']}: success rate {_fmt(row['success_rate'], '.1f', '%')} "
            f"({row['successful_tests']}/{row['total_tests']}), avg steps {_fmt(row['avg_steps'], '.2f')}, "
            f"avg duration {_fmt(row['avg_duration_ms'], ',.0f', ' ms')}"
        )
        lines.append(
            f"               tokens {_fmt(row['total_tokens'], ',')}, cost {_fmt(row['total_cost_usd'], '.4f', ' USD')}, "
            f"energy {_fmt(row['energy_wh'], '.3f', ' Wh')}, CO2 {_fmt(row['co2_emissions_g'], '.3f', ' g')}"
        )
        if row.get("hardware"):
            lines.append(
                f"               GPU {row['hardware']}: utilization avg {_fmt(row['gpu_utilization_avg'], '.1f', '%')}, "
                f"memory max {_fmt(row['gpu_memory_max_mib'], ',.0f', ' MiB')}"
            )
    lines.append(f"  exports      {outcome.exports_dir / outcome.run_id}")
    if published is not None:
        layout = published.layout
        for repo in ("results", "traces", "metrics", "leaderboard"):
            lines.append(f"  {repo:<12} {layout.data_file(repo)}")
        lines.append(f"  metric_data  {layout.raw_metrics_file()}")
    if outcome.hub is not None:
        for repo, result in outcome.hub.repos.items():
            state = "new commit" if result.committed else "already there"
            lines.append(f"  hub {repo:<8} {result.repo_id}@{(result.commit or '-')[:12]} ({state})")
    if outcome.publish_error:
        lines.append(f"  error        {outcome.publish_error}")
    out.write("\n".join(lines) + "\n")
