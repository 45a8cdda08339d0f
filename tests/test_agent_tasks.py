"""Task sets: formats, the built-in set, validation that names file/record/field, and the filters."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agent.runner import run_evaluation, telemetry_config
from agent.settings import AgentSettings, ModelSettings, RunOptions, Shard, TaskSource
from agent.task_files import TaskSetError, split_files
from agent.tasks import load_tasks
from agent.tools import default_toolbox
from smoltrace_otel.errors import UsageError
from smoltrace_otel.telemetry import setup_telemetry
from tests.agent_support import settings_for, task, write_tasks
from tests.doubles.chat_server import ChatServerDouble

TOOLBOX = default_toolbox()


def _load(source: TaskSource, agent_type: str = "tool"):
    return load_tasks(source, TOOLBOX, agent_type)


def test_builtin_set_loads_and_is_offline_and_scorable() -> None:
    task_set = _load(TaskSource())
    assert task_set.label == "builtin:default_tasks"
    assert 12 <= len(task_set.tasks) <= 20
    difficulties = [t.difficulty for t in task_set.tasks]
    assert difficulties == sorted(difficulties, key=["easy", "medium", "hard"].index)
    for t in task_set.tasks:
        assert t.expected_answer or t.expected_keywords
        named = [t.expected_tool] if t.expected_tool else list(t.expected_tool_calls)
        assert all(TOOLBOX.get(name) for name in named), t.id


def test_json_list_data_object_and_jsonl_give_the_same_tasks(tmp_path: Path) -> None:
    records = [task("a", expected_answer="1"), task("b", expected_keywords=["x"], difficulty="hard")]
    (tmp_path / "list.json").write_text(json.dumps(records))
    (tmp_path / "data.json").write_text(json.dumps({"data": records}))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n\n")
    columns = sorted({key for r in records for key in r})
    pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in columns} for r in records]), tmp_path / "rows.parquet")
    loaded = [
        _load(TaskSource(path=tmp_path / name)).tasks
        for name in ("list.json", "data.json", "lines.jsonl", "rows.parquet")
    ]
    assert all(tasks == loaded[0] for tasks in loaded)
    assert [t.id for t in loaded[0]] == ["a", "b"]
    assert loaded[0][1].expected_keywords == ("x",)


def _problem(tmp_path: Path, content: str, name: str = "tasks.json") -> str:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TaskSetError) as caught:
        _load(TaskSource(path=path))
    return str(caught.value)


def test_malformed_records_are_refused_with_file_record_and_field(tmp_path: Path) -> None:
    records = [
        task("ok", expected_answer="1"),
        {"id": "no-prompt", "expected_answer": "1"},
        task("bad-calls", expected_tool_calls=0, expected_answer="1"),
        task("bad-keywords", expected_keywords=[1, 2]),
        task("bad-type", agent_type="robot", expected_answer="1"),
        task("ok", expected_answer="2"),
        "not an object",
        task("nothing-to-score"),
    ]
    message = _problem(tmp_path, json.dumps(records))
    path = str(tmp_path / "tasks.json")
    assert f"malformed task set {path} (7 problem(s))" in message
    assert f"{path}: record 2 (id 'no-prompt'): field 'prompt': required" in message
    assert "record 3 (id 'bad-calls'): field 'expected_tool_calls': must be 1 or more" in message
    assert "record 4 (id 'bad-keywords'): field 'expected_keywords'" in message
    assert "record 5 (id 'bad-type'): field 'agent_type'" in message
    assert "record 6 (id 'ok'): field 'id': duplicate id, first used at record 1" in message
    assert "record 7: expected a JSON object, got str" in message
    assert "record 8 (id 'nothing-to-score'): nothing to score" in message


def test_broken_files_name_the_line(tmp_path: Path) -> None:
    good = json.dumps(task("a", expected_answer="1"))
    message = _problem(tmp_path, f"{good}\n{{not json\n", "tasks.jsonl")
    assert f"{tmp_path / 'tasks.jsonl'}: line 2: not valid JSON" in message
    assert "expected a JSON list of tasks" in _problem(tmp_path, '{"tasks": []}')
    assert "unsupported task file type .csv" in _problem(tmp_path, "id,prompt\n", "tasks.csv")
    assert "no tasks" in _problem(tmp_path, "[]")


def test_unknown_expected_tool_is_refused(tmp_path: Path) -> None:
    message = _problem(tmp_path, json.dumps([task("w", expected_tool="web_search", expected_answer="x")]))
    assert "record 1 (id 'w'): field 'expected_tool': 'web_search' is not a tool of this agent" in message
    assert "calculator" in message


def test_malformed_task_set_is_refused_before_any_model_call(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("a", expected_answer="1"), {"id": "b"}])
    settings = settings_for(chat_server, tasks_file)
    with pytest.raises(TaskSetError, match=r"record 2 .* field 'prompt'"):
        from agent.runner import prepare_run

        prepare_run(settings)
    assert chat_server.requests == []
    telemetry = setup_telemetry(telemetry_config("never", exports_dir=tmp_path / "exports"))
    with pytest.raises(TaskSetError):
        run_evaluation(settings, telemetry)
    telemetry.shutdown()
    assert chat_server.requests == []


def test_filters_agent_type_difficulty_limit_then_shard(tmp_path: Path) -> None:
    records = [
        task(
            f"t{n}", difficulty=["easy", "hard"][n % 2], agent_type=["tool", "both", "code"][n % 3], expected_answer="1"
        )
        for n in range(12)
    ]
    path = write_tasks(tmp_path / "tasks.json", records)
    tool_tasks = [r["id"] for r in records if r["agent_type"] != "code"]
    assert [t.id for t in _load(TaskSource(path=path)).tasks] == tool_tasks
    hard = [r["id"] for r in records if r["agent_type"] != "code" and r["difficulty"] == "hard"]
    assert [t.id for t in _load(TaskSource(path=path, difficulty=("HARD",))).tasks] == hard
    assert [t.id for t in _load(TaskSource(path=path, limit=3)).tasks] == tool_tasks[:3]

    shards = [_load(TaskSource(path=path, limit=7, shard=Shard(i, 3))).tasks for i in (1, 2, 3)]
    ids = [t.id for shard in shards for t in shard]
    assert sorted(ids) == sorted(tool_tasks[:7])
    assert len(ids) == len(set(ids))
    assert [t.id for t in shards[0]] == tool_tasks[:7][0::3]


def test_selection_that_leaves_nothing_is_refused(tmp_path: Path) -> None:
    path = write_tasks(tmp_path / "tasks.json", [task("a", expected_answer="1")])
    with pytest.raises(TaskSetError, match="no task left"):
        _load(TaskSource(path=path, difficulty=("hard",)))
    assert _load(TaskSource(path=path, shard=Shard(2, 2))).tasks == ()


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/2/3"])
def test_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        Shard.parse(text)


def test_code_agent_is_refused_with_a_clear_message() -> None:
    for agent_type in ("code", "both"):
        settings = AgentSettings(ModelSettings("openai/x"), run=RunOptions(agent_type=agent_type))
        with pytest.raises(UsageError, match="only the tool-calling agent"):
            settings.check()


def test_split_files_follow_hub_naming() -> None:
    files = [
        "README.md",
        "data/train-00000-of-00001.parquet",
        "data/test-00000-of-00001.parquet",
        "validation/part-0.jsonl",
        "trainer_notes.json",
    ]
    assert split_files(files, "train") == ["data/train-00000-of-00001.parquet"]
    assert split_files(files, "validation") == ["validation/part-0.jsonl"]
    assert split_files(["tasks.jsonl"], "train") == ["tasks.jsonl"]
    assert split_files(["tasks.jsonl"], "test") == []
