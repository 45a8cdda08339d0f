"""A standalone NVML GPU exporter that speaks OTLP (see ``gpu-sidecar --help``).

Imports nothing from ``agent`` or ``publisher``; runs with only the OpenTelemetry SDK,
its exporters and nvidia-ml-py installed.
"""
