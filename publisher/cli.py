"""``smoltrace publish``: turn a run's OTLP JSON exports into results, traces, metrics and a leaderboard row.

``--output-format hub`` writes the local layout first (the staging area), then pushes it
to the Hugging Face Hub (``publisher.hub_command``); ``--resume`` pushes the runs left
pending in the outbox. Exit codes: 0 published; 2 bad input (unknown run, invalid run
id, bad flags, no Hub token); 3 nothing could be published (empty run, run still being
written, write failure, the Hub refused or could not be reached).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from publisher.hub_command import add_hub_arguments, check_token, hub_settings_from_args, run_hub_publish
from smoltrace_otel import env
from smoltrace_otel.cliargs import add_logging_arguments, run_id_type
from smoltrace_otel.errors import ExitCode, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id",
        type=run_id_type,
        default=None,
        help="the run to publish (its exports/<run_id>/ directory); required unless --resume",
    )
    parser.add_argument(
        "--exports",
        type=Path,
        default=None,
        help=f"root of the export tree holding <run_id>/ and unassigned/ (default: ${env.SMOLTRACE_EXPORTS_DIR} or ./exports)",
    )
    parser.add_argument(
        "--output-format",
        choices=("local", "hub"),
        default="local",
        help="local: write the datasets under --output-dir (default); hub: write them there, then push them to the Hugging Face Hub",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help=f"local datasets root (default: ${env.SMOLTRACE_OUTPUT_DIR} or ./smoltrace-results)",
    )
    parser.add_argument(
        "--grid-intensity",
        type=float,
        default=None,
        metavar="G_PER_KWH",
        help=f"grid carbon intensity for CO2 figures (default: ${env.SMOLTRACE_GRID_INTENSITY} or 475, world average)",
    )
    parser.add_argument(
        "--pue",
        type=float,
        default=None,
        help=f"data-centre PUE applied to GPU energy (default: ${env.SMOLTRACE_PUE} or 1.0)",
    )
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=None,
        metavar="S",
        help="files changed more recently than this mean the run is still being written (default: 3; 0 disables)",
    )
    parser.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="publish a run that looks unfinished (still being written, or no run span) as a partial run",
    )
    add_hub_arguments(parser)
    add_logging_arguments(parser)


def run(args: argparse.Namespace) -> int:
    output_dir = args.output_dir or env.output_dir_default()
    if args.resume:
        if args.run_id is not None:
            raise UsageError("--resume pushes every run pending in the outbox of --output-dir: leave out --run-id")
        return run_hub_publish(hub_settings_from_args(args), output_dir, None)
    if args.run_id is None:
        raise UsageError("give --run-id RUN_ID (or --resume to push the runs a Hub publish left pending)")
    hub_settings = None
    if args.output_format == "hub":
        hub_settings = hub_settings_from_args(args)
        check_token(hub_settings)  # before any work: a missing token is found at once
    from publisher.collect import DEFAULT_SETTLE_SECONDS, CollectOptions
    from publisher.energy import EnergySettings
    from publisher.local import PublishRequest, publish_local

    if args.settle_seconds is not None and args.settle_seconds < 0:
        raise UsageError("--settle-seconds must be >= 0")
    request = PublishRequest(
        run_id=args.run_id,
        exports_dir=args.exports or env.exports_dir_default(),
        output_dir=output_dir,
        energy=EnergySettings.from_env(args.grid_intensity, args.pue),
        collect=CollectOptions(
            settle_seconds=DEFAULT_SETTLE_SECONDS if args.settle_seconds is None else args.settle_seconds,
            allow_incomplete=args.allow_incomplete,
        ),
    )
    published = publish_local(request)
    _print_summary(published)
    if hub_settings is not None:
        sys.stdout.flush()
        return run_hub_publish(hub_settings, output_dir, published.layout)
    return int(ExitCode.OK)


def _fmt(value: Any, spec: str, suffix: str = "", missing: str = "n/a") -> str:
    return missing if value is None else f"{value:{spec}}{suffix}"


def _print_summary(published: Any) -> None:
    row = published.leaderboard_row
    out = sys.stdout
    status = row["run_status"]
    out.write(
        f"Published run {row['run_id']} ({status}): {row['total_tests']} task(s), "
        f"{row['successful_tests']} successful ({_fmt(row['success_rate'], '.1f', '%')}), "
        f"{_fmt(row['total_tokens'], ',')} tokens, cost {_fmt(row['total_cost_usd'], '.4f', ' USD')}, "
        f"energy {_fmt(row['energy_wh'], '.3f', ' Wh')}, CO2 {_fmt(row['co2_emissions_g'], '.3f', ' g')}\n"
    )
    if row.get("hardware"):
        out.write(
            f"  GPU {row['hardware']}: utilization avg {_fmt(row['gpu_utilization_avg'], '.1f', '%')}, "
            f"memory max {_fmt(row['gpu_memory_max_mib'], ',.0f', ' MiB')}, power avg {_fmt(row['gpu_power_avg_w'], '.1f', ' W')}\n"
        )
    layout = published.layout
    counts = {
        "results": published.results_rows,
        "traces": published.trace_rows,
        "metrics": published.metric_rows,
        "leaderboard": 1,
    }
    for repo, count in counts.items():
        out.write(f"  {repo:<12} {layout.data_file(repo)} ({count} row{'s' if count != 1 else ''})\n")
    out.write(f"  {'metric_data':<12} {layout.raw_metrics_file()}\n")
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
    out.write(f"  read: {', '.join(extras)}\n")
    for reason in published.incomplete:
        out.write(f"  warning: published although {reason}\n")
