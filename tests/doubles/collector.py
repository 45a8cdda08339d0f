"""A Collector double: an OTLP/gRPC receiver that writes what the Collector's file exporter writes.

It serves the real ``opentelemetry-proto`` Trace, Metrics and Logs services and writes
each request the way ``collector-config/config.yaml`` configures otelcol-contrib:

* the ``resource`` processor inserts ``run.id=unassigned`` where a resource has none;
* the file exporter with ``group_by`` on ``run.id`` writes
  ``<out>/<run_id>/{traces,metrics,logs}.jsonl`` with ``append: true``;
* one compact JSON line per request and group, in the pdata JSON encoding: camelCase
  keys, lower-case hex trace/span ids, 64-bit integers as decimal strings, enums as
  integers, zero values omitted.

``fail_next(n)`` makes the next ``n`` exports answer UNAVAILABLE, as a Collector that
is down or overloaded would, so exporters' retry paths can be tested.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

RUN_ID_KEY = "run.id"
DEFAULT_RUN_ID = "unassigned"
_ID_KEYS = {"traceId", "spanId", "parentSpanId"}
MAX_RECV_BYTES = 4 * 1024 * 1024  # the receiver's default limit


def _hex_ids(node: Any) -> Any:
    """pdata writes trace and span ids as lower-case hex; protobuf JSON writes base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)
    return node


def _run_id_of(resource: dict[str, Any]) -> str:
    for attribute in resource.get("attributes", []):
        if attribute.get("key") == RUN_ID_KEY:
            value = attribute.get("value", {})
            return str(value.get("stringValue", DEFAULT_RUN_ID))
    return DEFAULT_RUN_ID


def _insert_default_run_id(resource: dict[str, Any]) -> None:
    attributes = resource.setdefault("attributes", [])
    if not any(a.get("key") == RUN_ID_KEY for a in attributes):
        attributes.append({"key": RUN_ID_KEY, "value": {"stringValue": DEFAULT_RUN_ID}})


class CollectorDouble:
    """Receives OTLP/gRPC on 127.0.0.1 and writes Collector-style JSON Lines under ``out_dir``."""

    def __init__(self, out_dir: Path, port: int = 0) -> None:
        self.out_dir = Path(out_dir)
        self._lock = threading.Lock()
        self._fail_next = 0
        self.requests = {"traces": 0, "metrics": 0, "logs": 0}
        self.rejected = 0
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=8),
            options=[("grpc.max_receive_message_length", MAX_RECV_BYTES)],
        )
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceService(self), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_MetricsService(self), self._server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsService(self), self._server)
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CollectorDouble:
        self._server.start()
        return self

    def stop(self, grace_s: float = 1.0) -> None:
        self._server.stop(grace_s).wait()

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._fail_next = count

    def _should_fail(self) -> bool:
        with self._lock:
            if self._fail_next > 0:
                self._fail_next -= 1
                self.rejected += 1
                return True
            return False

    def write(self, signal: str, top_key: str, message: Any, context: grpc.ServicerContext) -> None:
        if self._should_fail():
            context.abort(grpc.StatusCode.UNAVAILABLE, "collector double: injected failure")
        document = _hex_ids(MessageToDict(message, use_integers_for_enums=True))
        groups: dict[str, list[dict[str, Any]]] = {}
        for resource_item in document.get(top_key, []):
            resource = resource_item.setdefault("resource", {})
            _insert_default_run_id(resource)
            groups.setdefault(_run_id_of(resource), []).append(resource_item)
        with self._lock:
            self.requests[signal] += 1
            for run_id, items in groups.items():
                path = self.out_dir / run_id / f"{signal}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps({top_key: items}, separators=(",", ":")) + "\n")


class _TraceService(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, owner: CollectorDouble) -> None:
        self.owner = owner

    def Export(self, request, context):
        self.owner.write("traces", "resourceSpans", request, context)
        return trace_service_pb2.ExportTraceServiceResponse()


class _MetricsService(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, owner: CollectorDouble) -> None:
        self.owner = owner

    def Export(self, request, context):
        self.owner.write("metrics", "resourceMetrics", request, context)
        return metrics_service_pb2.ExportMetricsServiceResponse()


class _LogsService(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, owner: CollectorDouble) -> None:
        self.owner = owner

    def Export(self, request, context):
        self.owner.write("logs", "resourceLogs", request, context)
        return logs_service_pb2.ExportLogsServiceResponse()


@contextmanager
def running_collector(out_dir: Path) -> Iterator[CollectorDouble]:
    """Start a CollectorDouble on a free loopback port; stop it afterwards."""
    collector = CollectorDouble(out_dir).start()
    try:
        yield collector
    finally:
        collector.stop()


def main() -> None:  # pragma: no cover - manual use: python -m tests.doubles.collector OUT [PORT]
    import sys
    import time

    collector = CollectorDouble(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 4317).start()
    print(f"collector double on {collector.endpoint} writing to {collector.out_dir}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        collector.stop()


if __name__ == "__main__":
    main()
