"""Telemetry wiring shared by the agent and the GPU sidecar.

One function, :func:`setup_telemetry`, builds a tracer provider and a meter provider
with a ``Resource`` that carries ``service.name`` and ``run.id`` and picks the
transport:

* **Collector mode**: an OTLP endpoint is configured (``--otlp-endpoint`` or the
  standard ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variables), so spans and metrics go over
  OTLP/gRPC; the exporters also honour the other standard variables (headers,
  certificates, compression, timeout).
* **Embedded mode**: no endpoint, so this process writes the same OTLP JSON Lines the
  Collector's file exporter writes, with the official ``opentelemetry-exporter-otlp-json-file``
  exporters, into ``<exports>/<run_id>/`` (``unassigned`` without a run id). Each process
  writes its own files, so two processes never append to one file.

No global provider is installed: callers take tracers and meters from the returned
:class:`Telemetry`, and call :meth:`Telemetry.shutdown` (idempotent; also run at exit)
to flush everything.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Tracer
from opentelemetry.util.types import AttributeValue

from smoltrace_otel import env
from smoltrace_otel.runid import RUN_ID_ATTRIBUTE, UNASSIGNED, validate_run_id

logger = logging.getLogger(__name__)

Mode = Literal["otlp", "embedded"]

SPAN_QUEUE_SIZE = 65536
HOST_NAME_ATTRIBUTE = "host.name"
SERVICE_NAME_ATTRIBUTE = "service.name"


@dataclass(frozen=True)
class TelemetryConfig:
    """What a process needs to say about itself and where its telemetry goes."""

    service_name: str
    """Default ``service.name``; ``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` win."""
    run_id: str | None = None
    """The run this process belongs to; ``None`` leaves the data without ``run.id``
    unless ``OTEL_RESOURCE_ATTRIBUTES`` carries one."""
    otlp_endpoint: str | None = None
    """Explicit Collector endpoint; ``None`` falls back to the standard variables."""
    exports_dir: Path = field(default_factory=env.exports_dir_default)
    """Embedded mode: root of the export tree."""
    traces: bool = True
    metrics: bool = True
    metric_export_interval_s: float | None = None
    """Seconds between metric exports; ``None`` uses ``OTEL_METRIC_EXPORT_INTERVAL`` (SDK default 60 s)."""
    metric_views: Sequence[View] = ()
    extra_resource_attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    export_timeout_s: float | None = None
    """OTLP request timeout; ``None`` uses ``OTEL_EXPORTER_OTLP_TIMEOUT`` (SDK default 10 s)."""


@dataclass
class DeliveryStats:
    """How much telemetry the exporters reported as delivered or lost."""

    spans_exported: int = 0
    spans_failed: int = 0
    metric_exports_failed: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_spans(self, count: int, ok: bool) -> None:
        with self._lock:
            if ok:
                self.spans_exported += count
            else:
                self.spans_failed += count

    def record_metric_export(self, ok: bool) -> None:
        if not ok:
            with self._lock:
                self.metric_exports_failed += 1


class _CountingSpanExporter(SpanExporter):
    """Passes batches to the real exporter and counts what it could not deliver."""

    def __init__(self, inner: SpanExporter, stats: DeliveryStats) -> None:
        self._inner = inner
        self._stats = stats

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception:
            logger.exception("span exporter raised")
            result = SpanExportResult.FAILURE
        self._stats.record_spans(len(spans), result is SpanExportResult.SUCCESS)
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class _CountingMetricExporter(MetricExporter):
    """Passes metric batches to the real exporter and counts failed exports."""

    def __init__(self, inner: MetricExporter, stats: DeliveryStats) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._stats = stats

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: object) -> MetricExportResult:
        try:
            result = self._inner.export(metrics_data, timeout_millis=timeout_millis)
        except Exception:
            logger.exception("metric exporter raised")
            result = MetricExportResult.FAILURE
        self._stats.record_metric_export(result is MetricExportResult.SUCCESS)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: object) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis)


class Telemetry:
    """The providers of one process, and how to flush and close them."""

    def __init__(
        self,
        *,
        resource: Resource,
        mode: Mode,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        files: Mapping[str, Path],
        stats: DeliveryStats,
    ) -> None:
        self.resource = resource
        self.mode: Mode = mode
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.files = dict(files)
        """Embedded mode: the file each signal is written to."""
        self.delivery = stats
        self._closed = False
        self._lock = threading.Lock()
        atexit.register(self.shutdown)

    @property
    def run_id(self) -> str | None:
        value = self.resource.attributes.get(RUN_ID_ATTRIBUTE)
        return str(value) if value is not None else None

    def tracer(self, name: str, version: str | None = None) -> Tracer:
        if self.tracer_provider is None:
            raise RuntimeError("traces are disabled in this TelemetryConfig")
        return self.tracer_provider.get_tracer(name, version)

    def meter(self, name: str, version: str | None = None) -> Meter:
        if self.meter_provider is None:
            raise RuntimeError("metrics are disabled in this TelemetryConfig")
        return self.meter_provider.get_meter(name, version)

    def force_flush(self, timeout_s: float = 30.0) -> bool:
        """Export everything buffered now; False if some provider timed out."""
        ok = True
        if self.tracer_provider is not None:
            ok = self.tracer_provider.force_flush(int(timeout_s * 1000)) and ok
        if self.meter_provider is not None:
            ok = self.meter_provider.force_flush(timeout_s * 1000) and ok
        return ok

    def shutdown(self) -> None:
        """Flush and close every provider; safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self.shutdown)
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()
        if self.delivery.spans_failed or self.delivery.metric_exports_failed:
            logger.warning(
                "telemetry not delivered: %d span(s), %d metric export(s)",
                self.delivery.spans_failed,
                self.delivery.metric_exports_failed,
            )


def build_resource(
    service_name: str,
    run_id: str | None,
    extra: Mapping[str, AttributeValue] | None = None,
) -> Resource:
    """A Resource with ``service.name``, ``host.name`` and ``run.id``.

    ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` override the defaults for
    ``service.name`` and ``host.name``; an explicit ``run_id`` overrides a ``run.id`` from
    the environment (which is validated like any other run id).
    """
    from_env = OTELResourceDetector().detect().attributes
    attributes: dict[str, AttributeValue] = dict(extra or {})
    if SERVICE_NAME_ATTRIBUTE not in from_env:
        attributes[SERVICE_NAME_ATTRIBUTE] = service_name
    if HOST_NAME_ATTRIBUTE not in from_env:
        attributes[HOST_NAME_ATTRIBUTE] = socket.gethostname()
    env_run_id = from_env.get(RUN_ID_ATTRIBUTE)
    if run_id is not None:
        attributes[RUN_ID_ATTRIBUTE] = validate_run_id(run_id)
        if env_run_id is not None and env_run_id != run_id:
            logger.warning(
                "run id %r from the command line overrides run.id=%r from the environment", run_id, env_run_id
            )
    elif env_run_id is not None:
        validate_run_id(str(env_run_id))
    return Resource.create(attributes)


def resolve_mode(config: TelemetryConfig) -> Mode:
    """Collector mode when any OTLP endpoint is configured, embedded mode otherwise."""
    if config.otlp_endpoint:
        return "otlp"
    signals = [s for s, on in (("traces", config.traces), ("metrics", config.metrics)) if on]
    if any(env.otlp_endpoint_from_env(s) for s in signals):
        return "otlp"
    return "embedded"


_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def embedded_file(exports_dir: Path, run_id: str | None, signal: str, service_name: str) -> Path:
    """Where this process writes ``signal`` in embedded mode: one file per process and signal."""
    service = _UNSAFE_FILE_CHARS.sub("_", service_name) or "service"
    host = _UNSAFE_FILE_CHARS.sub("_", socket.gethostname()) or "host"
    return exports_dir / (run_id or UNASSIGNED) / f"{signal}-{service}-{host}-{os.getpid()}.jsonl"


def setup_telemetry(config: TelemetryConfig) -> Telemetry:
    """Build the providers and exporters that ``config`` asks for."""
    resource = build_resource(config.service_name, config.run_id, config.extra_resource_attributes)
    mode = resolve_mode(config)
    stats = DeliveryStats()
    files: dict[str, Path] = {}
    run_id = resource.attributes.get(RUN_ID_ATTRIBUTE)
    service_name = str(resource.attributes.get(SERVICE_NAME_ATTRIBUTE, config.service_name))

    def span_exporter() -> SpanExporter:
        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter(endpoint=config.otlp_endpoint, timeout=config.export_timeout_s)
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter

        path = embedded_file(config.exports_dir, str(run_id) if run_id else None, "traces", service_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        files["traces"] = path
        return FileSpanExporter(path)

    def metric_exporter() -> MetricExporter:
        if mode == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

            return OTLPMetricExporter(endpoint=config.otlp_endpoint, timeout=config.export_timeout_s)
        from opentelemetry.exporter.otlp.json.file import FileMetricExporter

        path = embedded_file(config.exports_dir, str(run_id) if run_id else None, "metrics", service_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        files["metrics"] = path
        return FileMetricExporter(path)

    tracer_provider = None
    if config.traces:
        tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        # A queue far above the SDK's 2048 so a fast parallel run never drops spans before export.
        tracer_provider.add_span_processor(
            BatchSpanProcessor(_CountingSpanExporter(span_exporter(), stats), max_queue_size=SPAN_QUEUE_SIZE)
        )

    meter_provider = None
    if config.metrics:
        interval_ms = None if config.metric_export_interval_s is None else config.metric_export_interval_s * 1000
        reader = PeriodicExportingMetricReader(
            _CountingMetricExporter(metric_exporter(), stats), export_interval_millis=interval_ms
        )
        meter_provider = MeterProvider(
            resource=resource,
            metric_readers=[reader],
            views=list(config.metric_views),
            shutdown_on_exit=False,
        )

    logger.debug("telemetry for %s in %s mode (run.id=%s) files=%s", service_name, mode, run_id, files)
    return Telemetry(
        resource=resource,
        mode=mode,
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        files=files,
        stats=stats,
    )
