"""The ``smoltrace`` command: one entry point, one subcommand per component.

Subcommand modules are imported only when chosen, so ``smoltrace --help`` stays fast
and does not import litellm or huggingface_hub. A subcommand module provides
``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from smoltrace_otel import __version__
from smoltrace_otel.errors import ExitCode, SmoltraceError
from smoltrace_otel.logs import configure_logging
from smoltrace_otel.redact import redact


@dataclass(frozen=True)
class Command:
    name: str
    module: str
    help: str


COMMANDS: tuple[Command, ...] = (
    Command("run", "smoltrace_otel.run_cli", "Evaluate a model end to end: agent, GPU sidecar, publisher, summary."),
    Command("agent", "agent.cli", "Run a task set against a model through litellm; every step becomes a GenAI span."),
    Command("publish", "publisher.cli", "Publish a run's exports as results, traces, metrics and a leaderboard row."),
    Command(
        "sample-metrics",
        "gpu_sidecar.sample_cli",
        "Write sample GPU metrics (and optionally a sample run) in OpenTelemetry format, for UIs and demos.",
    ),
)

DESCRIPTION = (
    "OpenTelemetry-native evaluation harness for LLM agents: runs tool-calling tasks "
    "through litellm, records every step as GenAI spans, and publishes results, traces, "
    "GPU metrics and a leaderboard row."
)


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smoltrace", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"smoltrace-otel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for command in COMMANDS:
        sub_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        if command.name == chosen:
            module = importlib.import_module(command.module)
            module.add_arguments(sub_parser)
            sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if getattr(args, "_run", None) is None:
        parser.print_help()
        return ExitCode.OK if not argv else ExitCode.BAD_INPUT
    configure_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    try:
        return int(args._run(args))
    except SmoltraceError as error:
        print(f"smoltrace {args.command}: error: {redact(str(error))}", file=sys.stderr)  # noqa: T201
        return int(error.exit_code)
    except KeyboardInterrupt:
        print(f"smoltrace {args.command}: interrupted", file=sys.stderr)  # noqa: T201
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":
    sys.exit(main())
