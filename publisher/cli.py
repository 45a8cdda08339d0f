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

from publisher.hub_command import add_hub_arguments, check_token, hub_settings_from_args, run_hub_publish
from publisher.summary import summary_lines
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
    sys.stdout.write("\n".join(summary_lines(published)) + "\n")
    if hub_settings is not None:
        sys.stdout.flush()
        return run_hub_publish(hub_settings, output_dir, published.layout)
    return int(ExitCode.OK)
