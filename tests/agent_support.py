"""Helpers for the agent's tests: task files, settings aimed at the chat server double, exported spans."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent.runner import RunSummary, run_evaluation, telemetry_config
from agent.settings import AgentSettings, LoopSettings, ModelSettings, RunOptions, TaskSource
from agent.tools import Toolbox
from smoltrace_otel.telemetry import setup_telemetry
from tests.doubles.chat_server import ChatServerDouble
from tests.otlp_shapes import points, read_lines, spans

FAST_BACKOFF_S = 0.01


def write_tasks(path: Path, tasks: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def task(task_id: str, prompt: str | None = None, **fields: Any) -> dict[str, Any]:
    """A task record whose prompt contains its id, so the double can script it by id."""
    return {"id": task_id, "prompt": prompt or f"[{task_id}] please solve this", "difficulty": "easy", **fields}


def settings_for(
    server: ChatServerDouble,
    tasks_file: Path,
    model: str = "openai/gpt-4o-mini",
    **loop: Any,
) -> AgentSettings:
    """Settings that reach ``server`` through litellm, with quick retries."""
    workers = loop.pop("parallel_workers", 1)
    return AgentSettings(
        model=ModelSettings(model, api_base=server.api_base, retry_backoff_s=FAST_BACKOFF_S, request_timeout_s=10.0),
        tasks=TaskSource(path=tasks_file),
        loop=replace(LoopSettings(), **loop),
        run=RunOptions(parallel_workers=workers, progress=False),
    )


@dataclass
class Exported:
    summary: RunSummary
    spans: list[dict[str, Any]]
    points: list[dict[str, Any]]

    def named(self, prefix: str) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["name"].startswith(prefix)]

    def root(self, task_id: str) -> dict[str, Any]:
        (found,) = [s for s in self.named("invoke_agent") if s["attributes"]["smoltrace.task.id"] == task_id]
        return found

    def children(self, root: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["traceId"] == root["traceId"] and s is not root]


def exported_from(directory: Path, summary: RunSummary) -> Exported:
    files = sorted(directory.glob("*.jsonl"))
    lines = [line for f in files for line in read_lines(f)]
    return Exported(summary, spans(lines), points(lines))


def run_embedded(
    tmp_path: Path, settings: AgentSettings, run_id: str = "agent-test", toolbox: Toolbox | None = None
) -> Exported:
    """Run in-process with embedded telemetry under ``tmp_path/exports`` and read back what was written."""
    telemetry = setup_telemetry(telemetry_config(run_id, exports_dir=tmp_path / "exports"))
    try:
        summary = run_evaluation(settings, telemetry, toolbox)
    finally:
        telemetry.shutdown()
    return exported_from(tmp_path / "exports" / run_id, summary)


def with_settings(settings: AgentSettings, **changes: Any) -> AgentSettings:
    return replace(settings, **changes)
