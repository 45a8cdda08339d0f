"""The telemetry a run emits, read back from the exported JSON Lines (embedded and via the Collector)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.runner import run_evaluation, telemetry_config
from smoltrace_otel import attributes as a
from smoltrace_otel.telemetry import setup_telemetry
from tests.agent_support import Exported, exported_from, run_embedded, settings_for, task, write_tasks
from tests.doubles.chat_server import ChatServerDouble, answer, call
from tests.doubles.collector import CollectorDouble
from tests.otlp_shapes import read_lines

RUN_ID = "spans-run-1"
CLIENT, INTERNAL = 3, 1


def _script(server: ChatServerDouble) -> list[dict]:
    server.script("[mult]", [call("calculator", {"expression": "234*67"}), answer("15678")])
    server.script("[capital]", [call("country_info", {"country": "Japan"}), answer("Tokyo")])
    server.script(
        "[hot]", [call("get_weather", {"city": "Paris"}), call("get_weather", {"city": "London"}), answer("Paris")]
    )
    return [
        task("mult", expected_tool="calculator", expected_answer="15678", category="arithmetic"),
        task("capital", expected_tool="country_info", expected_answer="Tokyo", difficulty="medium"),
        task("hot", expected_tool="get_weather", expected_tool_calls=2, expected_answer="Paris", difficulty="hard"),
    ]


def exported_run(tmp_path: Path, server: ChatServerDouble, tasks_file: Path, model: str) -> Exported:
    return run_embedded(tmp_path, settings_for(server, tasks_file, model=model))


def _run(tmp_path: Path, server: ChatServerDouble, otlp_endpoint: str | None) -> Exported:
    tasks_file = write_tasks(tmp_path / "tasks.json", _script(server))
    settings = settings_for(server, tasks_file, parallel_workers=2)
    telemetry = setup_telemetry(telemetry_config(RUN_ID, otlp_endpoint=otlp_endpoint, exports_dir=tmp_path / "exports"))
    summary = run_evaluation(settings, telemetry)
    telemetry.shutdown()
    return exported_from(tmp_path / "exports" / RUN_ID, summary)


@pytest.mark.parametrize("transport", ["embedded", "collector"])
def test_run_and_task_traces_have_the_genai_shape(
    transport: str, tmp_path: Path, chat_server: ChatServerDouble, collector: CollectorDouble
) -> None:
    exported = _run(tmp_path, chat_server, collector.endpoint if transport == "collector" else None)
    if transport == "collector":
        exported = exported_from(collector.out_dir / RUN_ID, exported.summary)
        assert not (tmp_path / "exports").exists()
    assert exported.summary.succeeded == 3
    assert {s["resource"]["run.id"] for s in exported.spans} == {RUN_ID}
    assert {s["resource"]["service.name"] for s in exported.spans} == {"smoltrace-agent"}

    (run,) = exported.named("smoltrace.run")
    assert run["kind"] == INTERNAL and run["parentSpanId"] == ""
    config = run["attributes"]
    assert config["smoltrace.run.model"] == "openai/gpt-4o-mini"
    assert config["smoltrace.run.planned_tasks"] == 3
    assert config["smoltrace.run.completed_tasks"] == 3
    assert config["smoltrace.run.status"] == "completed"
    assert config["smoltrace.run.dataset"] == str(tmp_path / "tasks.json")
    assert config["smoltrace.run.parallel_workers"] == 2
    assert config["smoltrace.schema_version"] == "1"

    roots = exported.named("invoke_agent")
    assert [r["name"] for r in roots] == ["invoke_agent smoltrace-tool-agent"] * 3
    assert len({r["traceId"] for r in roots} | {run["traceId"]}) == 4, "one trace per task, apart from the run's"
    for root in roots:
        assert root["kind"] == INTERNAL and root["parentSpanId"] == ""
        assert root["links"] == [(run["traceId"], run["spanId"])]
        assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
        assert root["attributes"]["gen_ai.agent.name"] == "smoltrace-tool-agent"
        for child in exported.children(root):
            assert child["parentSpanId"] == root["spanId"]

    hot = exported.root("hot")
    attributes = hot["attributes"]
    assert attributes["smoltrace.task.difficulty"] == "hard"
    assert attributes["smoltrace.task.prompt"] == "[hot] please solve this"
    assert attributes["smoltrace.task.expected_tool_calls"] == 2
    assert attributes["smoltrace.task.tools_used"] == ["get_weather", "get_weather"]
    assert attributes["smoltrace.task.steps"] == 3
    children = exported.children(hot)
    assert [c["name"] for c in children].count("chat gpt-4o-mini") == 3
    assert sorted(c["name"] for c in children if c["kind"] == INTERNAL) == [
        "execute_tool final_answer",
        "execute_tool get_weather",
        "execute_tool get_weather",
    ]
    chat = next(c for c in children if c["name"].startswith("chat"))
    assert chat["kind"] == CLIENT
    assert chat["attributes"]["gen_ai.operation.name"] == "chat"
    assert chat["attributes"]["gen_ai.provider.name"] == "openai"
    assert chat["attributes"]["gen_ai.request.model"] == "gpt-4o-mini"
    assert chat["attributes"]["gen_ai.response.model"] == "gpt-4o-mini"
    assert chat["attributes"]["server.address"] == "127.0.0.1"
    assert chat["attributes"]["server.port"] == chat_server.port
    tool = next(c for c in children if c["name"] == "execute_tool get_weather")
    assert tool["attributes"]["gen_ai.tool.name"] == "get_weather"
    assert tool["attributes"]["gen_ai.tool.call.id"].startswith("call_")
    assert "gen_ai.tool.call.arguments" not in tool["attributes"], "content needs the opt-in"
    assert "gen_ai.input.messages" not in chat["attributes"]


def test_token_sums_equal_the_servers_usage_in_spans_and_metrics(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    exported = _run(tmp_path, chat_server, None)
    prompt_tokens, completion_tokens = chat_server.usage_totals()
    chats = exported.named("chat ")
    assert len(chats) == len(chat_server.responses) == 7
    assert sum(c["attributes"]["gen_ai.usage.input_tokens"] for c in chats) == prompt_tokens
    assert sum(c["attributes"]["gen_ai.usage.output_tokens"] for c in chats) == completion_tokens
    assert sum(r.input_tokens for r in exported.summary.results) == prompt_tokens

    final = {}
    for point in exported.points:  # cumulative histograms: the last point per stream holds the totals
        key = (point["name"], tuple(sorted(point["attributes"].items())))
        final[key] = point
    usage = [p for (name, _), p in final.items() if name == "gen_ai.client.token.usage"]
    by_type = {
        t: sum(p["value"] for p in usage if p["attributes"]["gen_ai.token.type"] == t) for t in ("input", "output")
    }
    assert by_type == {"input": prompt_tokens, "output": completion_tokens}
    assert {p["unit"] for p in usage} == {"{token}"}
    durations = [p for (name, _), p in final.items() if name == "gen_ai.client.operation.duration"]
    assert {p["unit"] for p in durations} == {"s"}
    assert durations[0]["attributes"]["gen_ai.operation.name"] == "chat"


def test_histograms_use_the_conventions_buckets(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    _run(tmp_path, chat_server, None)
    (metrics_file,) = (tmp_path / "exports" / RUN_ID).glob("metrics-*.jsonl")
    bounds = {}
    for line in read_lines(metrics_file):
        for rm in line["resourceMetrics"]:
            for sm in rm["scopeMetrics"]:
                for metric in sm["metrics"]:
                    bounds[metric["name"]] = metric["histogram"]["dataPoints"][0]["explicitBounds"]
    assert bounds[a.METRIC_TOKEN_USAGE] == list(a.TOKEN_USAGE_BUCKETS)
    assert bounds[a.METRIC_OPERATION_DURATION] == list(a.OPERATION_DURATION_BUCKETS)


def test_cost_comes_from_the_offline_price_map_and_unknown_models_get_none(
    tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    import litellm

    chat_server.script("[c]", [answer("1")])
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("c", expected_answer="1")])
    known = exported_run(tmp_path / "known", chat_server, tasks_file, "openai/gpt-4o-mini")
    (chat,) = known.named("chat ")
    price = litellm.model_cost["gpt-4o-mini"]
    usage = chat_server.responses[-1]["usage"]
    expected = (
        usage["prompt_tokens"] * price["input_cost_per_token"]
        + usage["completion_tokens"] * price["output_cost_per_token"]
    )
    assert chat["attributes"]["smoltrace.usage.cost_usd"] == pytest.approx(expected)

    unknown = exported_run(tmp_path / "unknown", chat_server, tasks_file, "openai/smollm2-local")
    (chat,) = unknown.named("chat ")
    assert chat["attributes"]["gen_ai.usage.input_tokens"] > 0
    assert "smoltrace.usage.cost_usd" not in chat["attributes"]
    assert unknown.summary.results[0].cost_usd is None


def test_message_content_only_with_the_opt_in(
    tmp_path: Path, chat_server: ChatServerDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    chat_server.script("[m]", [call("calculator", {"expression": "6*7"}), answer("42")])
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("m", expected_answer="42")])
    exported = exported_run(tmp_path, chat_server, tasks_file, "openai/gpt-4o-mini")
    first, second = sorted(exported.named("chat "), key=lambda s: s["attributes"]["smoltrace.chat.step"])
    sent = json.loads(first["attributes"]["gen_ai.input.messages"])
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[1]["parts"] == [{"type": "text", "content": "[m] please solve this"}]
    received = json.loads(first["attributes"]["gen_ai.output.messages"])
    assert received[0]["parts"][0]["type"] == "tool_call"
    assert received[0]["parts"][0]["name"] == "calculator"
    assert received[0]["finish_reason"] == "tool_calls"
    history = json.loads(second["attributes"]["gen_ai.input.messages"])
    assert history[-1]["parts"][0] == {
        "type": "tool_call_response",
        "id": received[0]["parts"][0]["id"],
        "response": "42",
    }
    tool = exported.named("execute_tool calculator")[0]
    assert json.loads(tool["attributes"]["gen_ai.tool.call.arguments"]) == {"expression": "6*7"}
    assert tool["attributes"]["gen_ai.tool.call.result"] == "42"
