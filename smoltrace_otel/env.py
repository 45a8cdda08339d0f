"""Every environment variable smoltrace-otel reads, named once.

Standard OpenTelemetry variables (``OTEL_EXPORTER_OTLP_*``, ``OTEL_RESOURCE_ATTRIBUTES``,
``OTEL_SERVICE_NAME``, ``OTEL_METRIC_EXPORT_INTERVAL``) are honoured by the SDK and its
exporters themselves; the ones we also read are listed here.
"""

from __future__ import annotations

import os
from pathlib import Path

OTEL_EXPORTER_OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
"""Standard. When set (or given as ``--otlp-endpoint``), telemetry goes over OTLP/gRPC to
this Collector; when unset, each process writes OTLP JSON Lines files itself (embedded mode)."""

OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
"""Standard, per signal. Also selects OTLP/gRPC for traces when set."""

OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
"""Standard, per signal. Also selects OTLP/gRPC for metrics when set."""

OTEL_EXPORTER_OTLP_LOGS_ENDPOINT = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
"""Standard, per signal. Also selects OTLP/gRPC for logs when set."""

OTEL_SERVICE_NAME = "OTEL_SERVICE_NAME"
"""Standard. Overrides the component's default ``service.name``."""

OTEL_RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES"
"""Standard. Extra resource attributes; may carry ``run.id`` for apps that are not ours."""

OTEL_METRIC_EXPORT_INTERVAL = "OTEL_METRIC_EXPORT_INTERVAL"
"""Standard. Milliseconds between metric exports (SDK default 60000). The GPU sidecar uses it
as the default of ``--export-interval`` (its own default: 10 s)."""

SMOLTRACE_EXPORTS_DIR = "SMOLTRACE_EXPORTS_DIR"
"""Root of the export tree (``<dir>/<run_id>/*.jsonl``). Default: ``./exports``."""

SMOLTRACE_OUTPUT_DIR = "SMOLTRACE_OUTPUT_DIR"
"""Where the publisher writes its local datasets. Default: ``./smoltrace-results``."""

HF_TOKEN = "HF_TOKEN"
"""Read by ``huggingface_hub``: the token for publishing to the Hub (else the token file written by
``hf auth login``). Never taken from a command-line flag, never logged or stored."""

HF_ENDPOINT = "HF_ENDPOINT"
"""Read by ``huggingface_hub`` when it is imported: the Hub URL (default https://huggingface.co)."""

SMOLTRACE_GRID_INTENSITY = "SMOLTRACE_GRID_INTENSITY"
"""Publisher: grid carbon intensity in gCO2e/kWh for CO2 figures (default 475; see docs/publisher.md)."""

SMOLTRACE_PUE = "SMOLTRACE_PUE"
"""Publisher: power usage effectiveness applied to GPU energy for CO2 figures (default 1.0)."""

DEFAULT_EXPORTS_DIR = Path("exports")
DEFAULT_OUTPUT_DIR = Path("smoltrace-results")


def exports_dir_default() -> Path:
    """The export root from ``SMOLTRACE_EXPORTS_DIR``, else ``./exports``."""
    return Path(os.environ.get(SMOLTRACE_EXPORTS_DIR) or DEFAULT_EXPORTS_DIR)


def output_dir_default() -> Path:
    """The local results root from ``SMOLTRACE_OUTPUT_DIR``, else ``./smoltrace-results``."""
    return Path(os.environ.get(SMOLTRACE_OUTPUT_DIR) or DEFAULT_OUTPUT_DIR)


def otlp_endpoint_from_env(signal: str | None = None) -> str | None:
    """The configured OTLP endpoint for ``signal`` ("traces", "metrics", "logs"), if any."""
    if signal is not None:
        specific = os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
        if specific:
            return specific
    return os.environ.get(OTEL_EXPORTER_OTLP_ENDPOINT) or None
