"""The Hub part of ``smoltrace publish``: its flags, settings from the flags, and the push itself.

``publisher.cli`` adds these flags and calls :func:`run_hub_publish` for ``--output-format hub``
(after the local publish has staged the run) and for ``--resume`` (every run left pending
in the outbox). There is deliberately no token flag: the token comes from ``HF_TOKEN``,
the token file or ``hf auth login``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from publisher.hub_http import HttpTimeout
from publisher.hub_retry import RetryPolicy
from publisher.hub_settings import HubSettings
from publisher.layout import RunLayout
from smoltrace_otel import env
from smoltrace_otel.errors import ExitCode, UsageError


def add_hub_arguments(parser: argparse.ArgumentParser, with_resume: bool = True) -> None:
    """Flags of a Hub publish (all optional; ignored by a local publish). ``smoltrace run`` has its own
    ``--resume`` (finish a run), so it leaves this one out."""
    group = parser.add_argument_group(
        f"Hugging Face Hub (--output-format hub or --resume; token from ${env.HF_TOKEN}, the token file or `hf auth login`)"
    )
    group.add_argument("--public", action="store_true", help="create the repositories public (default: private)")
    group.add_argument(
        "--private", dest="public", action="store_false", help="create the repositories private (the default)"
    )
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
    if not with_resume:
        return
    group.add_argument(
        "--resume",
        action="store_true",
        help="push the runs left pending in --output-dir's outbox (a Hub publish that did not finish); no --run-id",
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


def check_token(settings: HubSettings) -> None:
    """Raise ``HubTokenMissingError`` (exit code 2) now, before any work, when no token is configured."""
    from publisher.hub_settings import resolve_token

    resolve_token(settings)


def run_hub_publish(settings: HubSettings, output_dir: Path, layout: RunLayout | None) -> int:
    """Push the staged run ``layout`` (``None``: every run pending in ``output_dir``'s outbox); print where it went."""
    from publisher.hub import publish_run_to_hub, resume_pending

    if layout is None:
        results = resume_pending(output_dir, settings)
        if not results:
            sys.stdout.write(f"nothing pending in {output_dir}\n")
    else:
        results = [publish_run_to_hub(layout, settings)]
    for result in results:
        sys.stdout.write(f"Pushed run {result.run_id} to the Hub as {result.submitted_by}:\n")
        for repo, outcome in result.repos.items():
            state = "new commit" if outcome.committed else "already there"
            visibility = "" if outcome.private is None else ", private" if outcome.private else ", public"
            sys.stdout.write(f"  {repo:<12} {outcome.repo_id}@{(outcome.commit or '-')[:12]} ({state}{visibility})\n")
    return int(ExitCode.OK)
