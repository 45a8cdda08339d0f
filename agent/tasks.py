"""Tasks: the record format, validation that names the file, record and field, and the filters.

A task set is a local ``.json`` (a list, or ``{"data": [...]}``) or ``.jsonl`` file, a Hub
dataset (json/jsonl/parquet files of one split, at a pinned revision), or the built-in
set ``agent/default_tasks.json``. The record fields are the reference tool's:

==================== =========================================================== =========
field                meaning                                                     required
==================== =========================================================== =========
``id``               unique text (a number is taken as text)                     yes
``prompt``           the user message                                            yes
``difficulty``       free text, usually easy / medium / hard                     no
``agent_type``       ``tool``, ``code`` or ``both`` (default ``both``)             no
``category``         free text                                                   no
``expected_tool``    a tool the agent must call, or ``multiple`` (any tools)     no
``expected_tool_calls`` how many calls of ``expected_tool`` (an integer), or a   no
                     list of tool names that must all be called
``expected_keywords`` words of which at least one must be in the final answer    no
``expected_answer``  the answer, compared after normalisation (``scoring.py``)   no
==================== =========================================================== =========

A task must give at least one of ``expected_answer``, ``expected_keywords``,
``expected_tool`` and ``expected_tool_calls``: one with none of them could only be scored
by guessing, and is refused. Unknown fields are ignored. Every problem is reported
before any model call, all at once, each with its file, record and field.

Selection, in this order: tasks for the agent type (``agent_type`` equal to it or
``both``), ``--difficulty``, ``--limit`` (the first N), then ``--shard I/N`` (every N-th
task starting at the I-th), so that N machines running shards 1..N of the same command
cover exactly the limited set once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from agent.settings import TaskSource
from agent.task_files import RawRecord, TaskSetError, fetch_hub_split, read_task_file
from agent.tools import FINAL_ANSWER, Toolbox

logger = logging.getLogger(__name__)

ANY_TOOL = "multiple"
"""``expected_tool`` value of the reference tool meaning "any tools, ``expected_tool_calls`` of them"."""
MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Task:
    id: str
    prompt: str
    difficulty: str = "unspecified"
    agent_type: str = "both"
    category: str | None = None
    expected_tool: str | None = None
    expected_tool_calls: int | tuple[str, ...] | None = None
    expected_keywords: tuple[str, ...] = ()
    expected_answer: str | None = None


@dataclass(frozen=True)
class TaskSet:
    """The selected tasks and what the run span says about where they came from."""

    tasks: tuple[Task, ...]
    label: str
    revision: str | None
    split: str | None
    total: int
    """Records in the set before selection."""


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, record: RawRecord, field: str | None, message: str, task_id: str | None = None) -> None:
        where = f"{record.source}: {record.position}"
        if task_id is not None:
            where += f" (id {task_id!r})"
        self.items.append(f"{where}: field {field!r}: {message}" if field else f"{where}: {message}")

    def raise_if_any(self, label: str) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_PROBLEMS_SHOWN]
        more = len(self.items) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise TaskSetError(
            f"malformed task set {label} ({len(self.items)} problem(s)):\n  " + "\n  ".join(shown) + tail
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"must be text, got {type(value).__name__}")
    return str(value).strip() or None


def _keywords(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(k, str) and k.strip() for k in value):
        raise ValueError("must be a list of non-empty strings")
    return tuple(k.strip() for k in value)


def _tool_calls(value: Any) -> int | tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"must be 1 or more, got {value}")
        return value
    if isinstance(value, float) and value.is_integer() and value >= 1:
        return int(value)  # Parquet and pandas turn nullable integer columns into floats
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise ValueError("must be a positive integer or a non-empty list of tool names")


_FIELDS = {
    "difficulty": _text,
    "category": _text,
    "expected_tool": _text,
    "expected_answer": _text,
    "expected_keywords": _keywords,
    "expected_tool_calls": _tool_calls,
}


def parse_record(record: RawRecord, problems: _Problems) -> Task | None:
    """A Task from one record, or None with the record's problems added."""
    data = record.data
    if not isinstance(data, dict):
        problems.add(record, None, f"expected a JSON object, got {type(data).__name__}")
        return None
    before = len(problems.items)
    raw_id = data.get("id")
    task_id = str(raw_id).strip() if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else ""
    if not task_id:
        problems.add(record, "id", "required: a non-empty text or number")
    shown_id = task_id or None
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        problems.add(record, "prompt", "required: a non-empty string", shown_id)
    values: dict[str, Any] = {}
    for name, convert in _FIELDS.items():
        try:
            values[name] = convert(data.get(name))
        except ValueError as error:
            problems.add(record, name, str(error), shown_id)
    agent_type = data.get("agent_type") or "both"
    if agent_type not in ("tool", "code", "both"):
        problems.add(record, "agent_type", f"must be tool, code or both, got {agent_type!r}", shown_id)
    if len(problems.items) > before:
        return None
    if not any(values[k] for k in ("expected_answer", "expected_keywords", "expected_tool", "expected_tool_calls")):
        problems.add(
            record,
            None,
            "nothing to score: give expected_answer, expected_keywords, expected_tool or expected_tool_calls",
            shown_id,
        )
        return None
    return Task(
        id=task_id,
        prompt=str(prompt).strip(),
        difficulty=values["difficulty"] or "unspecified",
        agent_type=agent_type,
        category=values["category"],
        expected_tool=values["expected_tool"],
        expected_tool_calls=values["expected_tool_calls"],
        expected_keywords=values["expected_keywords"],
        expected_answer=values["expected_answer"],
    )


def _check_tools(task: Task, record: RawRecord, toolbox: Toolbox, problems: _Problems) -> None:
    available = ", ".join(n for n in toolbox.names if n != FINAL_ANSWER)
    if task.expected_tool not in (None, ANY_TOOL) and toolbox.get(task.expected_tool) is None:
        problems.add(
            record, "expected_tool", f"{task.expected_tool!r} is not a tool of this agent ({available})", task.id
        )
    if isinstance(task.expected_tool_calls, tuple):
        unknown = [n for n in task.expected_tool_calls if toolbox.get(n) is None]
        if unknown:
            problems.add(record, "expected_tool_calls", f"unknown tool(s) {', '.join(unknown)} ({available})", task.id)


def default_tasks_path() -> Path:
    return Path(str(resources.files("agent") / "default_tasks.json"))


def _read(source: TaskSource) -> tuple[list[RawRecord], str, str | None, str | None]:
    if source.dataset_name:
        hub, paths = fetch_hub_split(source.dataset_name, source.dataset_revision, source.split)
        records = [
            r
            for name, path in zip(hub.files, paths, strict=True)
            for r in read_task_file(path, f"{hub.repo_id}@{hub.sha[:12]}:{name}")
        ]
        return records, source.dataset_name, hub.sha, source.split
    path = source.path or default_tasks_path()
    label = str(source.path) if source.path else "builtin:default_tasks"
    return read_task_file(path, label), label, None, None


def load_tasks(source: TaskSource, toolbox: Toolbox, agent_type: str) -> TaskSet:
    """Read, validate and select the tasks; raises TaskSetError naming every problem."""
    records, label, revision, split = _read(source)
    problems = _Problems()
    parsed: list[tuple[RawRecord, Task]] = []
    seen: dict[str, RawRecord] = {}
    for record in records:
        task = parse_record(record, problems)
        if task is None:
            continue
        if task.id in seen:
            problems.add(record, "id", f"duplicate id, first used at {seen[task.id].position}", task.id)
            continue
        seen[task.id] = record
        parsed.append((record, task))
    if not records:
        problems.items.append(f"{label}: no tasks")
    problems.raise_if_any(label)

    selected = [(r, t) for r, t in parsed if t.agent_type in (agent_type, "both")]
    if source.difficulty:
        wanted = {d.lower() for d in source.difficulty}
        selected = [(r, t) for r, t in selected if t.difficulty.lower() in wanted]
    if source.limit is not None:
        selected = selected[: source.limit]
    if not selected:
        raise TaskSetError(f"{label}: no task left after selection (agent type {agent_type}, --difficulty, --limit)")
    if source.shard is not None:
        selected = selected[source.shard.index - 1 :: source.shard.count]
        if not selected:
            logger.warning("shard %s of %s has no task", source.shard, label)
    if source.skip_ids:
        before = len(selected)
        selected = [(r, t) for r, t in selected if t.id not in source.skip_ids]
        logger.info("%s: %d task(s) already done in this run are skipped", label, before - len(selected))
    for record, task in selected:
        _check_tools(task, record, toolbox, problems)
    problems.raise_if_any(label)
    logger.info("%s: %d of %d task(s) selected", label, len(selected), len(records))
    return TaskSet(tuple(t for _, t in selected), label, revision, split, len(records))
