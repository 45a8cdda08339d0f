"""Command-line arguments shared by several commands, defined once."""

from __future__ import annotations

import argparse
from pathlib import Path

from smoltrace_otel import env
from smoltrace_otel.errors import InvalidRunIdError
from smoltrace_otel.runid import validate_run_id

RUN_ID_HELP = "Optional unique run identifier (UUID). Generated if not provided."


def run_id_type(value: str) -> str:
    """argparse type: a validated run id (refused with a one-line reason)."""
    try:
        return validate_run_id(value)
    except InvalidRunIdError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_run_id_argument(parser: argparse.ArgumentParser, help_text: str = RUN_ID_HELP) -> None:
    parser.add_argument("--run-id", type=run_id_type, default=None, help=help_text)


def add_telemetry_arguments(parser: argparse.ArgumentParser) -> None:
    """``--otlp-endpoint`` and ``--exports-dir``: where this process's telemetry goes."""
    parser.add_argument(
        "--otlp-endpoint",
        default=None,
        help=(
            "OTLP/gRPC endpoint of a Collector, e.g. http://localhost:4317 "
            f"(default: ${env.OTEL_EXPORTER_OTLP_ENDPOINT}; unset means embedded mode: "
            "this process writes OTLP JSON Lines files itself)"
        ),
    )
    parser.add_argument(
        "--exports-dir",
        type=Path,
        default=None,
        help=f"embedded mode: root of the export tree <dir>/<run_id>/ (default: ${env.SMOLTRACE_EXPORTS_DIR} or ./exports)",
    )


def add_logging_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
