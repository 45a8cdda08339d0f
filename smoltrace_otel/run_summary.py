"""The short summary ``smoltrace run`` prints: what ran, then what the publisher wrote and where."""

from __future__ import annotations

from typing import TextIO

from smoltrace_otel.pipeline import RunOutcome


def print_summary(outcome: RunOutcome, out: TextIO) -> None:
    """Write the run's summary to ``out`` (the CLI's own output, so plain text)."""
    from publisher.summary import summary_lines

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
    lines.append(f"  exports      {outcome.exports_dir / outcome.run_id}")
    if outcome.published is not None:
        lines.extend(summary_lines(outcome.published))
    if outcome.hub is not None:
        for repo, result in outcome.hub.repos.items():
            state = "new commit" if result.committed else "already there"
            lines.append(f"  hub {repo:<8} {result.repo_id}@{(result.commit or '-')[:12]} ({state})")
    if outcome.publish_error:
        lines.append(f"  error        {outcome.publish_error}")
    out.write("\n".join(lines) + "\n")
