"""Results rows, trace rows and the leaderboard row from runs emitted through the real SDK."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from publisher.collect import CollectOptions
from publisher.leaderboard import RunFacts, compute_leaderboard_row, run_status
from publisher.local import PublishRequest, publish_local, read_leaderboard_row, write_leaderboard_row
from publisher.schemas import TABLES, schema
from smoltrace_otel.telemetry import TelemetryConfig, setup_telemetry
from tests.doubles.collector import CollectorDouble
from tests.sample_run import Chat, GpuDevice, GpuEmitter, Task, emit_run

TASKS = [
    Task("arith-1", chats=[Chat(100, 10, 0.001), Chat(200, 20, 0.002), Chat(300, 30, 0.003)], steps=3),
    Task("arith-2", success=False, chats=[Chat(50, 5)], stop_reason="max_steps", steps=8),  # no cost known
    Task("lookup-1", chats=[Chat(None, None)], tools=("lookup", "calculator", "lookup"), steps=2),  # no usage reported
    Task("unit-1", success=False, chats=[], tools=(), stop_reason="error", error="tool raised ValueError", steps=0),
    Task("unit-2", success=False, chats=[Chat(7, 3, 0.0005)], stop_reason="interrupted", steps=1),
]


def _emit(exports: Path | None, run_id: str, tasks: list[Task], endpoint: str | None = None, **run: object) -> None:
    telemetry = setup_telemetry(
        TelemetryConfig(
            "smoltrace-agent", run_id, otlp_endpoint=endpoint, exports_dir=exports or Path("unused"), metrics=False
        )
    )
    emit_run(telemetry, tasks, **run)
    telemetry.shutdown()


def _publish(exports: Path, out: Path, run_id: str, **collect: object) -> object:
    return publish_local(PublishRequest(run_id, exports, out, collect=CollectOptions(settle_seconds=0, **collect)))


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


@pytest.fixture
def published(tmp_path: Path, collector: CollectorDouble) -> object:
    _emit(None, "run-a", TASKS, endpoint=collector.endpoint, planned=5, status="interrupted")
    return _publish(collector.out_dir, tmp_path / "out", "run-a")


def test_one_results_row_per_task_with_every_scoring_field(published: object) -> None:
    rows = _rows(published.layout.data_file("results"))
    assert [r["task_id"] for r in rows] == ["arith-1", "arith-2", "lookup-1", "unit-1", "unit-2"]
    first = rows[0]
    assert first["success"] is True and first["tool_called"] is True and first["correct_tool"] is True
    assert first["final_answer_called"] is True and first["response_correct"] is True
    assert first["score_rule"] == "expected_answer" and first["stop_reason"] == "final_answer"
    assert first["evaluation_name"] == "smoltrace.success" and first["evaluation_score"] == 1.0
    assert first["prompt"] == "What is 2+2?" and first["response"] == "4" and first["expected_answer"] == "4"
    assert first["steps"] == 3 and first["llm_calls"] == 3 and first["tool_calls"] == 1
    assert (first["prompt_tokens"], first["completion_tokens"], first["total_tokens"]) == (600, 60, 660)
    assert first["cost_usd"] == pytest.approx(0.006)
    assert first["model"] == "gpt-4o-mini" and first["agent_type"] == "tool" and first["run_id"] == "run-a"
    assert first["schema_version"] == "1"

    by_id = {r["task_id"]: r for r in rows}
    assert by_id["arith-2"]["cost_usd"] is None  # no chat span had a cost: unknown, not 0
    assert by_id["arith-2"]["total_tokens"] == 55 and by_id["arith-2"]["stop_reason"] == "max_steps"
    assert by_id["lookup-1"]["prompt_tokens"] is None and by_id["lookup-1"]["total_tokens"] is None
    assert by_id["lookup-1"]["tools_used"] == ["calculator", "lookup"] and by_id["lookup-1"]["tool_calls"] == 3
    assert by_id["unit-1"]["error"] == "tool raised ValueError" and by_id["unit-1"]["status_code"] == "error"
    assert by_id["unit-1"]["llm_calls"] == 0 and by_id["unit-1"]["total_tokens"] is None


def test_task_duration_is_the_root_spans_own(published: object) -> None:
    traces = _rows(published.layout.data_file("traces"))
    for row in _rows(published.layout.data_file("results")):
        root = next(t for t in traces if t["span_id"] == row["span_id"])
        assert root["parent_span_id"] is None and root["trace_id"] == row["trace_id"]
        assert row["duration_ms"] == pytest.approx((root["end_time_unix_nano"] - root["start_time_unix_nano"]) / 1e6)
        children = [t for t in traces if t["parent_span_id"] == row["span_id"]]
        assert all(c["start_time_unix_nano"] >= root["start_time_unix_nano"] for c in children)


def test_trace_rows_have_the_fixed_schema_and_json_text(published: object) -> None:
    table = pq.read_table(published.layout.data_file("traces"))
    assert table.schema.remove_metadata() == schema("traces").remove_metadata()
    rows = table.to_pylist()
    assert len(rows) == 1 + 5 + 6 + 6  # run span, task roots, chat spans, tool spans
    root = next(r for r in rows if r["name"] == "invoke_agent smoltrace-tool-agent")
    attributes = json.loads(root["attributes"])
    assert attributes["smoltrace.task.id"] in {t.task_id for t in TASKS}
    events = json.loads(root["events"])
    assert events[0]["name"] == "gen_ai.evaluation.result"
    assert json.loads(root["links"])[0]["span_id"] == next(r["span_id"] for r in rows if r["name"] == "smoltrace.run")
    assert json.loads(root["resource_attributes"])["run.id"] == "run-a"
    assert {r["kind"] for r in rows} == {"internal", "client"}
    assert root["start_time"].tzinfo is not None


def test_leaderboard_totals_equal_the_sums_of_the_results(published: object) -> None:
    rows = _rows(published.layout.data_file("results"))
    (board,) = _rows(published.layout.data_file("leaderboard"))
    assert board == {**published.leaderboard_row, "timestamp": board["timestamp"]}
    scored = [r for r in rows if r["stop_reason"] != "interrupted"]
    assert board["total_tests"] == len(scored) == 4
    assert board["successful_tests"] == sum(r["success"] for r in scored) == 2
    assert board["failed_tests"] == 2 and board["interrupted_tests"] == 1
    assert board["max_steps_tests"] == 1 and board["errored_tests"] == 1
    assert board["success_rate"] == pytest.approx(50.0) and board["pass_at_1"] == pytest.approx(50.0)
    assert (
        board["total_tokens"] == sum(r["total_tokens"] for r in rows if r["total_tokens"] is not None) == 660 + 55 + 10
    )
    assert board["total_prompt_tokens"] == 600 + 50 + 7
    assert board["total_cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows if r["cost_usd"] is not None))
    assert board["total_duration_ms"] == pytest.approx(sum(r["duration_ms"] for r in rows))
    assert board["avg_duration_ms"] == pytest.approx(sum(r["duration_ms"] for r in scored) / 4)
    assert board["avg_steps"] == pytest.approx((3 + 8 + 2 + 0) / 4)
    assert board["total_spans"] == 18 and board["error_spans"] == 1
    assert board["run_status"] == "partial"  # the run span says interrupted
    assert board["model"] == "gpt-4o-mini" and board["provider"] == "litellm" and board["agent_type"] == "tool"
    assert board["dataset_used"] == "smoltrace/builtin-tasks" and board["dataset_revision"] == "abc123"
    assert board["results_dataset"] == "results/" + published.layout.data_path_in_repo("results")
    assert board["results_commit"] is None and board["submitted_by"] is None
    assert board["hardware"] is None and board["gpu_utilization_avg"] is None  # no GPU data: unmeasured, not 0
    assert board["energy_wh"] is None and board["co2_emissions_g"] is None
    assert board["planned_tests"] == 5


def test_run_status_rule() -> None:
    done = RunFacts(span_present=True, status="completed", planned_tasks=3)
    assert run_status(3, done) == "completed"
    assert run_status(2, done) == "partial"  # fewer scored than planned
    assert run_status(0, done) == "failed"
    assert run_status(3, RunFacts(span_present=False)) == "partial"
    assert run_status(3, RunFacts(span_present=True, status="failed")) == "partial"
    assert run_status(3, RunFacts(span_present=True, span_status_code=2)) == "partial"
    assert run_status(1, None) == "completed"


def test_pass_at_1_averages_each_task_ids_attempts_and_brief_signature_works() -> None:
    rows = [
        {"task_id": "a", "success": True, "stop_reason": "final_answer", "agent_type": "tool", "total_tokens": 10},
        {"task_id": "a", "success": False, "stop_reason": "final_answer", "agent_type": "tool", "total_tokens": 10},
        {"task_id": "b", "success": True, "stop_reason": "final_answer", "agent_type": "code", "total_tokens": None},
    ]
    row = compute_leaderboard_row(
        "m", {"tool": rows[:2], "code": rows[2:]}, [], {}, "ds", "r", "t", "m", agent_type="both", run_id="x"
    )
    assert row["pass_at_1"] == pytest.approx((0.5 + 1.0) / 2 * 100)
    assert row["success_rate"] == pytest.approx(2 / 3 * 100)
    assert row["total_tokens"] == 20 and row["avg_tokens_per_test"] == 10
    only_tool = compute_leaderboard_row(
        "m", {"tool": rows[:2], "code": rows[2:]}, [], {}, "ds", "r", "t", "m", agent_type="tool"
    )
    assert only_tool["total_tests"] == 2 and only_tool["pass_at_1"] == pytest.approx(50.0)
    nothing = compute_leaderboard_row("m", {}, [], {}, None, None, None, None)
    assert nothing["run_status"] == "failed" and nothing["success_rate"] is None and nothing["total_tokens"] is None


def test_republishing_the_same_run_rewrites_identical_files(tmp_path: Path) -> None:
    _emit(tmp_path / "exports", "run-same", TASKS[:2])
    first = _publish(tmp_path / "exports", tmp_path / "out", "run-same")
    before = {p: p.read_bytes() for p in first.files()}
    second = _publish(tmp_path / "exports", tmp_path / "out", "run-same")
    assert second.files() == first.files()
    assert {p: p.read_bytes() for p in second.files()} == before
    assert not (tmp_path / "out" / ".staging").exists()
    leftovers = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and p not in before]
    assert leftovers == []


def test_tables_of_two_runs_concatenate_under_one_schema(tmp_path: Path) -> None:
    _emit(tmp_path / "exports", "run-one", TASKS[:2])
    _emit(tmp_path / "exports", "run-two", [Task("other", chats=[Chat(1, 1, 0.1)])], model="another-model")
    for run_id, naming in (("run-one", "semconv"), ("run-two", "genai")):
        sidecar = setup_telemetry(
            TelemetryConfig("gpu-sidecar", run_id, exports_dir=tmp_path / "exports", traces=False)
        )
        emitter = GpuEmitter(sidecar, [GpuDevice("GPU-1", utilization=0.5, power_w=100.0)], naming)
        emitter.sample()
        emitter.close()
    layouts = [_publish(tmp_path / "exports", tmp_path / "out", run).layout for run in ("run-one", "run-two")]
    for table in TABLES:
        tables = [pq.read_table(layout.data_file(table)) for layout in layouts]
        merged = pa.concat_tables(tables)
        assert merged.schema.remove_metadata() == schema(table).remove_metadata()
        assert set(merged.column("run_id").to_pylist()) == {"run-one", "run-two"}
    board = pq.read_table(tmp_path / "out" / "leaderboard").to_pylist()
    assert {r["model"] for r in board} == {"gpt-4o-mini", "another-model"}


def test_leaderboard_row_can_be_rewritten_with_hub_commits(tmp_path: Path) -> None:
    _emit(tmp_path / "exports", "run-hub", TASKS[:1])
    layout = _publish(tmp_path / "exports", tmp_path / "out", "run-hub").layout
    row = read_leaderboard_row(layout)
    assert row["results_commit"] is None
    write_leaderboard_row(layout, {**row, "submitted_by": "someone", "results_commit": "a" * 40})
    again = read_leaderboard_row(layout)
    assert again["submitted_by"] == "someone" and again["results_commit"] == "a" * 40
    assert {k: v for k, v in again.items() if k not in ("submitted_by", "results_commit")} == {
        k: v for k, v in row.items() if k not in ("submitted_by", "results_commit")
    }
