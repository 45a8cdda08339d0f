"""``smoltrace sample-metrics``: sample GPU metrics (and optionally a sample run) in OpenTelemetry format.

For dashboards, leaderboard UIs and demos without a GPU. The output is a function of the
flags and the seed: the same ``--seed`` gives the same bytes. See docs/sample-metrics.md.

Exit codes: 0 written; 2 bad flags (nothing written), or an output file already there
without ``--overwrite``; 3 a file could not be written.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import secrets
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from gpu_sidecar.cli import DEFAULT_EXPORT_INTERVAL_S, DEFAULT_INTERVAL_S
from gpu_sidecar.simulated import GPU_MODELS, LoadProfile, Simulation
from smoltrace_otel import env
from smoltrace_otel.cliargs import add_logging_arguments, add_run_id_argument
from smoltrace_otel.errors import ExitCode, UsageError

logger = logging.getLogger(__name__)

DEFAULT_START = "2025-01-01T00:00:00Z"
DEFAULT_HOST = "sample-gpu-host"
DEFAULT_MODEL = "Qwen/Qwen2.5-7B-Instruct"
MAX_GPUS = 64
MAX_READINGS = 1_000_000
"""Readings of all GPUs together (about 20,000 a second with ``semconv``: bench/sample_metrics_speed.py)."""
MAX_TASKS = 1000
LAST_NS = 2**63 - 1


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{what} must be finite: {text!r}")
    return value


def positive_seconds(text: str) -> float:
    value = _number(text, "seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}: {text!r}")
        return value

    return parse


def percent_list(text: str) -> list[float]:
    """``75`` or ``80,40``: percentages 0..100."""
    values = []
    for part in text.split(","):
        value = _number(part.strip(), "a percentage")
        if not 0 <= value <= 100:
            raise argparse.ArgumentTypeError(f"percentages must be from 0 to 100: {text!r}")
        values.append(value)
    return values


def start_time(text: str) -> int:
    """An ISO 8601 time (UTC unless it says otherwise) or Unix seconds; returned in ns."""
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        seconds = None
    if seconds is not None:
        if not seconds.is_finite():
            raise argparse.ArgumentTypeError(f"not a time: {text!r}")
        return _checked_ns(int(seconds * 10**9))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time (e.g. {DEFAULT_START}) or Unix seconds: {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    since_epoch = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return _checked_ns((since_epoch.days * 86_400 + since_epoch.seconds) * 10**9 + since_epoch.microseconds * 1000)


def _checked_ns(ns: int) -> int:
    if not 0 <= ns < LAST_NS // 2:
        raise argparse.ArgumentTypeError("the start must lie between 1970 and 2262")
    return ns


def text_value(text: str) -> str:
    if not text.strip() or any(ord(c) < 32 for c in text):
        raise argparse.ArgumentTypeError(f"must be non-empty printable text: {text!r}")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write sample GPU metrics in OpenTelemetry format (OTLP JSON, as the Collector's file exporter "
        "writes it), from simulated GPUs fed through the GPU sidecar's own metric model: idle, warm-up, "
        "steady load with noise, memory growing to a plateau, temperature following power, an energy "
        "counter. Optionally a matching sample run (spans) that `smoltrace publish` can publish."
    )
    shape = parser.add_argument_group("the GPUs")
    shape.add_argument("--gpus", type=_count(1, MAX_GPUS), default=1, help="number of GPUs (default: 1)")
    shape.add_argument(
        "--gpu-model",
        choices=sorted(GPU_MODELS),
        default="h100",
        help="GPU model (default: h100 = NVIDIA H100 80GB HBM3)",
    )
    shape.add_argument(
        "--utilization",
        type=percent_list,
        default=[75.0],
        metavar="PCT[,PCT...]",
        help="mean utilization over the run in percent, one value for all GPUs or one per GPU (default: 75)",
    )
    shape.add_argument(
        "--memory",
        type=percent_list,
        default=[60.0],
        metavar="PCT[,PCT...]",
        help="peak memory in use (the plateau) in percent of the GPU's memory, for all or per GPU (default: 60)",
    )
    timing = parser.add_argument_group("time")
    timing.add_argument("--duration", type=positive_seconds, default=600.0, help="run length in seconds (default: 600)")
    timing.add_argument(
        "--interval",
        type=positive_seconds,
        default=DEFAULT_INTERVAL_S,
        help=f"seconds between two readings of every GPU, as the sidecar's --interval (default: {DEFAULT_INTERVAL_S:g})",
    )
    timing.add_argument(
        "--export-interval",
        type=positive_seconds,
        default=DEFAULT_EXPORT_INTERVAL_S,
        help=f"seconds between exported points, as the sidecar's --export-interval (default: {DEFAULT_EXPORT_INTERVAL_S:g})",
    )
    timing.add_argument(
        "--start",
        type=start_time,
        default=None,
        help=f"when the run starts: ISO 8601 or Unix seconds (default: {DEFAULT_START})",
    )
    out = parser.add_argument_group("output")
    out.add_argument(
        "--naming", choices=("semconv", "genai"), default="semconv", help="metric family (default: semconv)"
    )
    out.add_argument(
        "--format",
        choices=("otlp-jsonl", "metric-data"),
        default="otlp-jsonl",
        help="otlp-jsonl: Collector-style lines in <output>/<run_id>/metrics.jsonl; "
        "metric-data: the brief's metric_data dictionary as one JSON file (default: otlp-jsonl)",
    )
    out.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"otlp-jsonl: the export root (default: ${env.SMOLTRACE_EXPORTS_DIR} or ./exports); "
        "metric-data: the file, or a directory for metric_data-<run_id>.json (default: the current directory)",
    )
    add_run_id_argument(parser, "the run id (run.id); default: derived from the seed")
    out.add_argument(
        "--seed",
        type=_count(0, 2**63 - 1),
        default=None,
        help="seed for every random draw (default: a random one, printed)",
    )
    out.add_argument("--host-name", type=text_value, default=DEFAULT_HOST, help=f"host.name (default: {DEFAULT_HOST})")
    out.add_argument("--overwrite", action="store_true", help="replace output files that are already there")
    run = parser.add_argument_group("a sample run (spans)")
    run.add_argument(
        "--with-run",
        action="store_true",
        help="also write a sample run's spans (traces.jsonl) so that `smoltrace publish` can publish the whole run",
    )
    run.add_argument("--tasks", type=_count(1, MAX_TASKS), default=5, help="tasks in the sample run (default: 5)")
    run.add_argument("--model", type=text_value, default=DEFAULT_MODEL, help=f"model name (default: {DEFAULT_MODEL})")
    add_logging_arguments(parser)


@dataclass(frozen=True)
class Choices:
    """The flags, checked against each other, with the seed-derived defaults filled in."""

    seed: int
    run_id: str
    start_ns: int
    simulation: Simulation


def _per_gpu(values: list[float], gpus: int, flag: str) -> list[float]:
    if len(values) == 1:
        return values * gpus
    if len(values) != gpus:
        raise UsageError(f"{flag} takes one value or one per GPU ({gpus}), got {len(values)}")
    return values


def resolve(args: argparse.Namespace) -> Choices:
    """Cross-check the flags; raise UsageError before anything is written."""
    if args.export_interval < args.interval:
        raise UsageError("--export-interval must not be shorter than --interval")
    if args.duration < args.interval:
        raise UsageError("--duration must be at least one --interval")
    readings = (math.floor(args.duration / args.interval) + 2) * args.gpus
    if readings > MAX_READINGS:
        raise UsageError(
            f"{readings:,} readings is too many (at most {MAX_READINGS:,}): use a longer --interval, "
            "a shorter --duration or fewer --gpus"
        )
    utilization = _per_gpu(args.utilization, args.gpus, "--utilization")
    memory = _per_gpu(args.memory, args.gpus, "--memory")
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    run_id = args.run_id or str(uuid.UUID(int=random.Random(f"{seed}:run-id").getrandbits(128), version=4))
    start_ns = args.start if args.start is not None else start_time(DEFAULT_START)
    if start_ns + round(args.duration * 1e9) >= LAST_NS // 2:
        raise UsageError("the run would end after 2262")
    simulation = Simulation(
        model=GPU_MODELS[args.gpu_model],
        profiles=[LoadProfile(u / 100, m / 100) for u, m in zip(utilization, memory, strict=True)],
        duration_s=args.duration,
        interval_s=args.interval,
        export_interval_s=args.export_interval,
        start_s=start_ns / 1e9,
        seed=seed,
    )
    return Choices(seed, run_id, start_ns, simulation)


def run(args: argparse.Namespace) -> int:
    from gpu_sidecar.sample_writer import write_sample

    choices = resolve(args)
    written = write_sample(args, choices)
    sys.stdout.write(written.summary())
    return int(ExitCode.OK)
