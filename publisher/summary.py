"""The lines that tell a user what a publish wrote: headline figures, files, what reading found.

Shared by ``smoltrace publish`` and ``smoltrace run`` (which prints them under its own header).
"""

from __future__ import annotations

from typing import Any

from publisher.local import PublishedRun


def fmt(value: Any, spec: str = "", suffix: str = "", missing: str = "n/a") -> str:
    """``value`` formatted with ``spec``, or ``n/a`` when it was not measured."""
    return missing if value is None else f"{value:{spec}}{suffix}"


def summary_lines(published: PublishedRun) -> list[str]:
    """Headline figures of the leaderboard row, every file written, and what reading found."""
    row = published.leaderboard_row
    lines = [
        f"Published run {row['run_id']} ({row['run_status']}): {row['total_tests']} task(s), "
        f"{row['successful_tests']} successful ({fmt(row['success_rate'], '.1f', '%')}), "
        f"{fmt(row['total_tokens'], ',')} tokens, cost {fmt(row['total_cost_usd'], '.4f', ' USD')}, "
        f"energy {fmt(row['energy_wh'], '.3f', ' Wh')}, CO2 {fmt(row['co2_emissions_g'], '.3f', ' g')}",
        f"  avg steps {fmt(row['avg_steps'], '.2f')}, avg duration {fmt(row['avg_duration_ms'], ',.0f', ' ms')}",
    ]
    if row.get("hardware"):
        lines.append(
            f"  GPU {row['hardware']}: utilization avg {fmt(row['gpu_utilization_avg'], '.1f', '%')}, "
            f"memory max {fmt(row['gpu_memory_max_mib'], ',.0f', ' MiB')}, "
            f"power avg {fmt(row['gpu_power_avg_w'], '.1f', ' W')}"
        )
    layout = published.layout
    counts = {
        "results": published.results_rows,
        "traces": published.trace_rows,
        "metrics": published.metric_rows,
        "leaderboard": 1,
    }
    for repo, count in counts.items():
        lines.append(f"  {repo:<12} {layout.data_file(repo)} ({count} row{'s' if count != 1 else ''})")
    lines.append(f"  {'metric_data':<12} {layout.raw_metrics_file()}")
    read = published.read
    extras = [
        f"{read.files} file(s)",
        f"{read.bytes_read / 1e6:.1f} MB",
        f"{read.unparsable_lines} unparsable line(s)",
        f"{read.torn_lines} torn line(s)",
        f"{published.duplicate_spans} duplicate span(s) dropped",
    ]
    if published.joined_points:
        extras.append(f"{published.joined_points} GPU point(s) joined from unassigned/")
    lines.append(f"  read: {', '.join(extras)}")
    lines.extend(f"  warning: published although {reason}" for reason in published.incomplete)
    return lines
