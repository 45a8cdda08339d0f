"""smoltrace-otel: the shared core (run ids, telemetry wiring, CLI entry point).

This package imports nothing heavy at import time so that the GPU sidecar, which
depends on it, runs with only the OpenTelemetry SDK, its exporters and pynvml.
"""

from importlib import metadata

try:
    __version__ = metadata.version("smoltrace-otel")
except metadata.PackageNotFoundError:  # running from a source checkout
    __version__ = "0.1.0"

__all__ = ["__version__"]
