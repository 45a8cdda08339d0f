"""Hand-made OTLP JSON lines in the Collector's encoding, for the cases the SDK cannot produce.

The SDK refuses NaN gauge values, stamps points with the wall clock and never resets a
counter within one stream, so tests of those rules write the lines themselves, in the
same form the Collector double writes (compact, camelCase, 64-bit integers as strings).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gpu_sidecar import semconv as sc

T0 = 1_760_000_000 * 10**9
"""A fixed start time (2025-10-09 UTC) in ns."""
SECOND = 10**9


def kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def resource(**attributes: Any) -> dict[str, Any]:
    return {"attributes": [kv(k.replace("_", "."), v) for k, v in attributes.items()]}


def point(time_ns: int, value: Any, attributes: Mapping[str, Any], start_ns: int | None = None) -> dict[str, Any]:
    """A number data point; ``value`` may be an int (asInt), a float, or a JSON string like ``"NaN"`` (asDouble)."""
    out: dict[str, Any] = {"attributes": [kv(k, v) for k, v in attributes.items()], "timeUnixNano": str(time_ns)}
    if start_ns is not None:
        out["startTimeUnixNano"] = str(start_ns)
    if isinstance(value, int) and not isinstance(value, bool):
        out["asInt"] = str(value)
    else:
        out["asDouble"] = value
    return out


def metric(spec: sc.MetricSpec, points: Sequence[dict[str, Any]], temporality: int = 2) -> dict[str, Any]:
    """A metric of the sidecar's contract: gauge for gauges, sum (given temporality) for counters."""
    if spec.instrument == "gauge":
        return {"name": spec.name, "unit": spec.unit, "gauge": {"dataPoints": list(points)}}
    body: dict[str, Any] = {"dataPoints": list(points), "aggregationTemporality": temporality}
    if spec.instrument == "counter":
        body["isMonotonic"] = True
    return {"name": spec.name, "unit": spec.unit, "sum": body}


def metrics_line(res: dict[str, Any], metrics: Iterable[dict[str, Any]], scope: str = "gpu_sidecar") -> str:
    document = {
        "resourceMetrics": [{"resource": res, "scopeMetrics": [{"scope": {"name": scope}, "metrics": list(metrics)}]}]
    }
    return json.dumps(document, separators=(",", ":")) + "\n"


def span(
    trace_id: str,
    span_id: str,
    name: str,
    start_ns: int,
    end_ns: int,
    *,
    parent: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        "attributes": [kv(k, v) for k, v in (attributes or {}).items()],
        "status": {},
    }
    if parent is not None:
        out["parentSpanId"] = parent
    out.update(extra)
    return out


def spans_line(res: dict[str, Any], spans: Iterable[dict[str, Any]], scope: str = "smoltrace.agent") -> str:
    document = {"resourceSpans": [{"resource": res, "scopeSpans": [{"scope": {"name": scope}, "spans": list(spans)}]}]}
    return json.dumps(document, separators=(",", ":")) + "\n"


def write(path: Path, lines: Iterable[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
    return path


def gpu_attributes(uuid: str, name: str = "NVIDIA A10G", index: int = 0) -> dict[str, Any]:
    return {sc.HW_ID: uuid, sc.HW_NAME: name, sc.HW_VENDOR: "NVIDIA", sc.HW_TYPE: "gpu", sc.NVIDIA_GPU_INDEX: index}
