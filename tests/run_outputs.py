"""Reading what ``smoltrace run`` wrote, and checking its outputs agree with each other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from smoltrace_otel import attributes as A


def published(output_dir: Path, run_id: str) -> dict[str, Any]:
    """The four tables and the raw metric_data of one run under a local output directory."""
    found: dict[str, Any] = {}
    for repo in ("results", "traces", "metrics", "leaderboard"):
        (path,) = output_dir.glob(f"{repo}/data/*/{run_id}.parquet")
        found[repo] = pq.read_table(path).to_pylist()
    (raw,) = output_dir.glob(f"metrics/raw/*/{run_id}.json")
    found["metric_data"] = json.loads(raw.read_text(encoding="utf-8"))
    return found


def assert_outputs_agree(out: dict[str, Any], run_id: str) -> None:
    """One results row per task, root spans that match them, metric_data in the brief's shape,
    and a leaderboard row whose totals are the sums of the results."""
    results, traces, (row,) = out["results"], out["traces"], out["leaderboard"]
    assert results, "no results rows"
    assert len({r["task_id"] for r in results}) == len(results)
    assert {r["run_id"] for r in results} == {run_id}

    roots = {(t["trace_id"], t["span_id"]): t for t in traces if t["name"].startswith(A.INVOKE_AGENT)}
    assert set(roots) == {(r["trace_id"], r["span_id"]) for r in results}
    for result in results:
        root = roots[(result["trace_id"], result["span_id"])]
        assert root["parent_span_id"] in (None, "")
        assert result["duration_ms"] == root["duration_ms"]
        assert json.loads(root["attributes"])[A.TASK_ID] == result["task_id"]
        chats = [t for t in traces if t["trace_id"] == result["trace_id"] and t["name"].startswith(A.CHAT)]
        assert result["llm_calls"] == len(chats)
        assert result["prompt_tokens"] == sum(
            json.loads(c["attributes"]).get(A.GEN_AI_USAGE_INPUT_TOKENS, 0) for c in chats
        )
    assert {t["run_id"] for t in traces} == {run_id}

    metric_data = out["metric_data"]
    assert set(metric_data) == {"run_id", "resourceMetrics", "aggregates"}
    assert metric_data["run_id"] == run_id
    assert all(set(a) == {"name", "value"} for a in metric_data["aggregates"])
    for resource_metrics in metric_data["resourceMetrics"]:
        resource = {kv["key"]: kv["value"].get("stringValue") for kv in resource_metrics["resource"]["attributes"]}
        assert resource["run.id"] == run_id

    assert row["run_id"] == run_id
    assert row["total_tests"] == len(results)
    assert row["successful_tests"] == sum(bool(r["success"]) for r in results)
    assert row["total_tokens"] == sum(r["total_tokens"] for r in results)
    assert row["total_prompt_tokens"] == sum(r["prompt_tokens"] for r in results)
    assert row["total_completion_tokens"] == sum(r["completion_tokens"] for r in results)
    assert row["avg_steps"] == sum(r["steps"] for r in results) / len(results)
