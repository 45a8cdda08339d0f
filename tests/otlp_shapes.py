"""Test helpers that read OTLP JSON Lines into simple structures for comparisons.

Deliberately independent of ``publisher``'s reader, so the transports can be checked
against each other without trusting the code under test elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def any_value(value: dict[str, Any]) -> Any:
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {kv["key"]: any_value(kv.get("value", {})) for kv in value["kvlistValue"].get("values", [])}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def attrs(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: any_value(item.get("value", {})) for item in items or []}


def spans(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        for rs in line.get("resourceSpans", []):
            resource = attrs(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for span in ss.get("spans", []):
                    out.append(
                        {
                            "resource": resource,
                            "scope": ss.get("scope", {}).get("name"),
                            "name": span["name"],
                            "kind": span.get("kind", 0),
                            "traceId": span["traceId"],
                            "spanId": span["spanId"],
                            "parentSpanId": span.get("parentSpanId", ""),
                            "attributes": attrs(span.get("attributes")),
                            "events": [(e["name"], attrs(e.get("attributes"))) for e in span.get("events", [])],
                            "status": span.get("status", {}).get("code", 0),
                            "links": [(link["traceId"], link["spanId"]) for link in span.get("links", [])],
                        }
                    )
    return out


def points(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        for rm in line.get("resourceMetrics", []):
            resource = attrs(rm.get("resource", {}).get("attributes"))
            for sm in rm.get("scopeMetrics", []):
                for metric in sm.get("metrics", []):
                    for kind in ("gauge", "sum", "histogram"):
                        if kind in metric:
                            for dp in metric[kind].get("dataPoints", []):
                                value = dp.get("asDouble", dp.get("asInt", dp.get("sum")))
                                out.append(
                                    {
                                        "resource": resource,
                                        "name": metric["name"],
                                        "unit": metric.get("unit", ""),
                                        "kind": kind,
                                        "value": float(value) if value is not None else None,
                                        "attributes": attrs(dp.get("attributes")),
                                    }
                                )
    return out


def shape(node: Any, path: str = "") -> set[tuple[str, str]]:
    """The set of (key path, JSON type) pairs in a document: its form without its values."""
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        found.add((path, "object"))
        for key, value in node.items():
            found |= shape(value, f"{path}.{key}")
    elif isinstance(node, list):
        found.add((path, "array"))
        for item in node:
            found |= shape(item, f"{path}[]")
    else:
        kind = "number" if isinstance(node, int | float) and not isinstance(node, bool) else type(node).__name__
        found.add((path, kind))
    return found
