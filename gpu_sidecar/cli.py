"""The ``gpu-sidecar`` command (also ``python -m gpu_sidecar``).

Exit codes: 0 after a bounded run, SIGTERM or SIGINT (a last sample is taken and
flushed first); 2 for bad flags, an invalid run id, or no NVIDIA driver/GPU (unless
``--allow-no-gpu``, which idles and exports nothing).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from smoltrace_otel import __version__, env
from smoltrace_otel.cliargs import add_logging_arguments, add_run_id_argument, add_telemetry_arguments
from smoltrace_otel.errors import ExitCode, SmoltraceError, UsageError
from smoltrace_otel.logs import configure_logging
from smoltrace_otel.redact import redact
from smoltrace_otel.signals import on_termination

logger = logging.getLogger("gpu_sidecar")

PROG = "gpu-sidecar"
SERVICE_NAME = "gpu-sidecar"
METER_NAME = "gpu_sidecar"
DEFAULT_INTERVAL_S = 1.0
DEFAULT_EXPORT_INTERVAL_S = 10.0
RUN_ID_HELP = (
    "run this sidecar's metrics belong to (resource attribute run.id); "
    "without it the data carries no run id (a shared, long-running sidecar)"
)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {value!r}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Standalone NVIDIA GPU exporter: reads every GPU (and MIG instance) through NVML and "
            "emits OpenTelemetry metrics over OTLP/gRPC to a Collector, or as OTLP JSON Lines files."
        ),
        epilog=(
            "Standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_EXPORTER_OTLP_*), "
            "OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_METRIC_EXPORT_INTERVAL. See docs/gpu-sidecar.md."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--interval",
        type=_seconds,
        default=DEFAULT_INTERVAL_S,
        help=f"seconds between two readings of every GPU (default: {DEFAULT_INTERVAL_S:g})",
    )
    parser.add_argument(
        "--export-interval",
        type=_seconds,
        default=None,
        help=(
            "seconds between two metric exports; each export summarises the readings since the last one "
            f"(default: ${env.OTEL_METRIC_EXPORT_INTERVAL} in ms, else {DEFAULT_EXPORT_INTERVAL_S:g}; "
            "never shorter than --interval)"
        ),
    )
    parser.add_argument("--duration", type=_seconds, default=None, help="stop after this many seconds")
    parser.add_argument(
        "--naming",
        choices=("semconv", "genai"),
        default="semconv",
        help="metric family: OpenTelemetry hardware conventions (hw.*) or genai-otel-instrument's gen_ai.gpu.*",
    )
    parser.add_argument(
        "--allow-no-gpu",
        action="store_true",
        help="without a driver or GPU, idle (exporting nothing) instead of exiting with code 2",
    )
    add_run_id_argument(parser, RUN_ID_HELP)
    add_telemetry_arguments(parser)
    parser.add_argument("--output-dir", dest="exports_dir", type=Path, default=None, help="same as --exports-dir")
    add_logging_arguments(parser)
    return parser


def export_interval(args: argparse.Namespace) -> float:
    """``--export-interval``, else ``$OTEL_METRIC_EXPORT_INTERVAL`` (ms), else the default; at least ``--interval``."""
    chosen = args.export_interval
    if chosen is None:
        raw = os.environ.get(env.OTEL_METRIC_EXPORT_INTERVAL)
        try:
            chosen = float(raw) / 1000.0 if raw else DEFAULT_EXPORT_INTERVAL_S
        except ValueError:
            raise UsageError(f"{env.OTEL_METRIC_EXPORT_INTERVAL}={raw!r} is not a number of milliseconds") from None
    return max(chosen, args.interval)


def run(args: argparse.Namespace) -> int:
    from gpu_sidecar.exporting import GpuInstruments
    from gpu_sidecar.model import readings_for
    from gpu_sidecar.nvml_source import NoGpuError, NvmlSource, SourceSettings
    from gpu_sidecar.sampler import Sampler, SamplerSettings
    from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry

    every = export_interval(args)
    stopped = threading.Event()
    sampler: Sampler | None = None

    def on_signal(signum: int) -> None:
        logger.info("signal %d: taking a last sample, flushing, exiting", signum)
        stopped.set()
        if sampler is not None:
            sampler.stop()

    with on_termination(on_signal):
        source = NvmlSource(SourceSettings(interval_s=args.interval, readings=readings_for(args.naming)))
        try:
            devices = source.open()
        except NoGpuError as error:
            if not args.allow_no_gpu:
                raise
            logger.warning("%s; idling without exporting anything (--allow-no-gpu)", error)
            stopped.wait(args.duration)
            return int(ExitCode.OK)
        try:
            telemetry = setup_telemetry(
                TelemetryConfig(
                    service_name=SERVICE_NAME,
                    run_id=args.run_id,
                    otlp_endpoint=args.otlp_endpoint,
                    exports_dir=args.exports_dir or env.exports_dir_default(),
                    traces=False,
                    metric_export_interval_s=every,
                )
            )
        except BaseException:
            source.close()
            raise
        try:
            instruments = GpuInstruments(telemetry.meter(METER_NAME, __version__), args.naming)
            sampler = Sampler(
                source,
                instruments.record,
                SamplerSettings(interval_s=args.interval, duration_s=args.duration, naming=args.naming),
            )
            if stopped.is_set():
                sampler.stop()
            where = telemetry.files.get("metrics") or args.otlp_endpoint or env.otlp_endpoint_from_env("metrics")
            logger.info(
                "sampling %d device(s) every %g s, exporting %s metrics every %g s to %s (run.id=%s)",
                len(devices),
                args.interval,
                args.naming,
                every,
                where,
                telemetry.run_id or "none",
            )
            taken = sampler.run()
            logger.info(
                "stopped after %d sample(s); %.3f ms CPU per sample (sampling and exporting)",
                taken,
                sampler.cpu_s * 1000 / max(taken, 1),
            )
        finally:
            telemetry.shutdown()
            source.close()
    return int(ExitCode.OK)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, args.quiet)
    try:
        return run(args)
    except SmoltraceError as error:
        print(f"{PROG}: error: {redact(str(error))}", file=sys.stderr)  # noqa: T201
        return int(error.exit_code)


if __name__ == "__main__":
    sys.exit(main())
