"""Command-line glue for publishing to the Hub: flags, settings from flags, and a runner.

``smoltrace publish`` uses ``add_hub_arguments`` and ``run_hub_publish`` for
``--output-format hub`` and ``--resume``. The module also has the subcommand shape
(``add_arguments``/``run``) to push an already staged run from ``--output-dir``.
There is deliberately no token flag: the token comes from ``HF_TOKEN``, the token file
or ``hf auth login``.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from publisher.hub_http import HttpTimeout
from publisher.hub_retry import RetryPolicy
from publisher.hub_settings import HubSettings
from smoltrace_otel import env
from smoltrace_otel.cliargs import add_logging_arguments, add_run_id_argument
from smoltrace_otel.errors import ExitCode, UsageError

log = logging.getLogger(__name__)


def add_hub_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of a Hub publish (all optional)."""
    group = parser.add_argument_group(
        f"Hugging Face Hub (token from ${env.HF_TOKEN}, the token file or `hf auth login`)"
    )
    group.add_argument("--public", action="store_true", help="create the repositories public (default: private)")
    group.add_argument(
        "--hub-namespace", default=None, help="user or organisation owning the repositories (default: the token's user)"
    )
    for repo in ("results", "traces", "metrics", "leaderboard"):
        group.add_argument(
            f"--{repo}-repo", default=None, help=f"{repo} dataset: NAME or OWNER/NAME (default: smoltrace-{repo})"
        )
    group.add_argument(
        "--hub-timeout", type=float, default=60.0, help="seconds to wait on one HTTP read or write (default: 60)"
    )
    group.add_argument(
        "--hub-deadline", type=float, default=300.0, help="seconds to keep retrying one Hub operation (default: 300)"
    )
    group.add_argument(
        "--resume", action="store_true", help="push the runs left pending in the output directory's outbox"
    )


def hub_settings_from_args(args: argparse.Namespace) -> HubSettings:
    """``HubSettings`` from the flags of ``add_hub_arguments``."""
    if args.hub_timeout <= 0 or args.hub_deadline <= 0:
        raise UsageError("--hub-timeout and --hub-deadline must be positive")
    return HubSettings(
        namespace=args.hub_namespace,
        results_repo=args.results_repo,
        traces_repo=args.traces_repo,
        metrics_repo=args.metrics_repo,
        leaderboard_repo=args.leaderboard_repo,
        private=not args.public,
        timeout=HttpTimeout(read_s=args.hub_timeout),
        retry=RetryPolicy(deadline_s=args.hub_deadline),
    )


def run_hub_publish(args: argparse.Namespace, output_dir: Path, run_id: str | None) -> int:
    """Push ``run_id`` staged under ``output_dir`` (or, with ``--resume``, every pending run); print where it went."""
    from publisher.hub import find_staged_run, publish_run_to_hub, resume_pending

    settings = hub_settings_from_args(args)
    if args.resume:
        results = resume_pending(output_dir, settings)
        if not results:
            print(f"nothing pending in {output_dir}")  # noqa: T201
    elif run_id is None:
        raise UsageError("give --run-id (or --resume to push every pending run)")
    else:
        results = [publish_run_to_hub(find_staged_run(output_dir, run_id), settings)]
    for result in results:
        for repo, outcome in result.repos.items():
            state = "new commit" if outcome.committed else "already there"
            commit = (outcome.commit or "-")[:12]
            print(f"{result.run_id} {repo}: {outcome.repo_id}@{commit} ({state})")  # noqa: T201
    return int(ExitCode.OK)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_id_argument(parser, "run to push (staged under --output-dir)")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="local output root (default: $SMOLTRACE_OUTPUT_DIR or ./smoltrace-results)",
    )
    add_hub_arguments(parser)
    add_logging_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return run_hub_publish(args, args.output_dir or env.output_dir_default(), args.run_id)
