"""Faults: step and time limits, failing and hanging tools, rate limits, server errors, auth errors, secrets."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from agent.model_client import ModelClient
from agent.settings import GenerationSettings, ModelSettings
from agent.tools import BUILTIN_TOOLS, Tool, Toolbox
from smoltrace_otel.errors import ExitCode
from tests.agent_support import run_embedded, settings_for, task, with_settings, write_tasks
from tests.doubles.chat_server import ChatServerDouble, answer, call, text

FAKE_KEY = "sk-fakefakefake-0123456789abcdef"


def _one(tmp_path: Path, server: ChatServerDouble, fields: dict | None = None, toolbox: Toolbox | None = None, **loop):
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("f", **(fields or {"expected_answer": "42"}))])
    return run_embedded(tmp_path, settings_for(server, tasks_file, **loop), toolbox=toolbox)


def test_max_steps_exhaustion_is_never_a_success(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[f]", [call("calculator", {"expression": "6*7"})])  # repeats forever
    exported = _one(tmp_path, chat_server, max_steps=3)
    root = exported.root("f")["attributes"]
    assert root["smoltrace.task.stop_reason"] == "max_steps"
    assert root["smoltrace.task.steps"] == 3
    assert root["smoltrace.score.success"] is False
    assert root["smoltrace.score.tool_called"] is True
    assert "smoltrace.task.final_answer" not in root
    assert len(chat_server.requests) == 3
    assert exported.summary.exit_code == ExitCode.OK, "a model that fails is a result, not a run error"


def test_a_tool_that_raises_is_reported_to_the_model(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[f]", [call("calculator", {"expression": "1/0"}), answer("undefined")])
    exported = _one(tmp_path, chat_server, {"expected_tool": "calculator", "expected_keywords": ["undefined"]})
    (tool,) = exported.named("execute_tool calculator")
    assert tool["status"] == 2
    assert tool["attributes"]["error.type"] == "ZeroDivisionError"
    tool_message = chat_server.requests[1].body["messages"][-1]
    assert tool_message["role"] == "tool"
    assert tool_message["content"].startswith("error: ")
    assert "division by zero" in tool_message["content"]
    assert exported.root("f")["attributes"]["smoltrace.score.success"] is True


def test_a_tool_that_hangs_is_abandoned_at_its_timeout(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    release = threading.Event()

    def slow_lookup(key: str) -> str:
        release.wait(30)
        return key

    hanging = Tool(
        "slow_lookup",
        "Looks a key up, slowly.",
        {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
        slow_lookup,
    )
    toolbox = Toolbox.of([*BUILTIN_TOOLS, hanging])
    chat_server.script("[f]", [call("slow_lookup", {"key": "k"}), answer("42")])
    try:
        exported = _one(
            tmp_path,
            chat_server,
            {"expected_tool": "slow_lookup", "expected_answer": "42"},
            toolbox,
            tool_timeout_s=0.2,
        )
    finally:
        release.set()
    (tool,) = exported.named("execute_tool slow_lookup")
    assert tool["attributes"]["error.type"] == "ToolTimeoutError"
    assert "did not return within 0.2 s" in chat_server.requests[1].body["messages"][-1]["content"]
    root = exported.root("f")["attributes"]
    assert root["smoltrace.task.stop_reason"] == "final_answer"
    assert root["smoltrace.score.success"] is True


def test_rate_limit_then_success_is_retried(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[f]", [answer("42")])
    chat_server.fail_next(429, count=2, retry_after=0)
    exported = _one(tmp_path, chat_server)
    assert len(chat_server.requests) == 3
    (chat,) = exported.named("chat ")
    assert chat["attributes"]["smoltrace.chat.attempts"] == 3
    assert chat["status"] == 0
    assert exported.root("f")["attributes"]["smoltrace.score.success"] is True


def test_errors_after_retries_fail_the_task_and_the_run_goes_on(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[first]", [answer("1")])
    chat_server.script("[second]", [answer("2")])
    chat_server.fail_next(500, count=2)  # retries=1: both attempts of the first task fail
    tasks_file = write_tasks(
        tmp_path / "tasks.json", [task("first", expected_answer="1"), task("second", expected_answer="2")]
    )
    settings = settings_for(chat_server, tasks_file)
    settings = with_settings(settings, model=ModelSettings(**{**settings.model.__dict__, "retries": 1}))
    exported = run_embedded(tmp_path, settings)
    first = exported.root("first")
    assert first["attributes"]["smoltrace.task.stop_reason"] == "error"
    assert first["attributes"]["error.type"] == "InternalServerError"
    assert first["status"] == 2
    (failed_chat,) = exported.children(first)
    assert failed_chat["attributes"]["smoltrace.chat.attempts"] == 2
    assert failed_chat["attributes"]["error.type"] == "InternalServerError"
    assert exported.root("second")["attributes"]["smoltrace.score.success"] is True
    assert (exported.summary.errors, exported.summary.exit_code) == (1, ExitCode.TASKS_FAILED)


def test_slow_model_past_the_task_timeout_stops_with_timeout(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[f]", [text("late", delay_s=5)])
    exported = _one(tmp_path, chat_server, task_timeout_s=0.5)
    root = exported.root("f")["attributes"]
    assert root["smoltrace.task.stop_reason"] == "timeout"
    assert root["error.type"] == "timeout"
    assert root["smoltrace.score.success"] is False
    assert exported.summary.exit_code == ExitCode.TASKS_FAILED


def test_authentication_error_stops_the_run_at_once_without_leaking_the_key(
    tmp_path: Path, chat_server: ChatServerDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVAL_PROVIDER_KEY", FAKE_KEY)
    chat_server.fail_next(401, message="Incorrect API key provided: {api_key}. Check your key.")
    tasks_file = write_tasks(tmp_path / "tasks.json", [task(f"t{n}", expected_answer="1") for n in range(4)])
    settings = settings_for(chat_server, tasks_file)
    settings = with_settings(
        settings, model=ModelSettings(**{**settings.model.__dict__, "api_key_env": "EVAL_PROVIDER_KEY"})
    )
    exported = run_embedded(tmp_path, settings)

    assert chat_server.requests[0].headers["authorization"] == f"Bearer {FAKE_KEY}"
    assert len(chat_server.requests) == 1, "no retry, no other task"
    summary = exported.summary
    assert summary.exit_code == ExitCode.RUN_FAILED
    assert "HTTP 401" in summary.fatal_error and "--api-key-env" in summary.fatal_error
    assert FAKE_KEY not in summary.fatal_error
    (run,) = exported.named("smoltrace.run")
    assert run["attributes"]["smoltrace.run.status"] == "failed"
    assert run["status"] == 2
    (root,) = exported.named("invoke_agent")
    assert root["attributes"]["smoltrace.task.stop_reason"] == "error"
    assert "[REDACTED]" in root["attributes"]["smoltrace.task.error"]
    raw = "".join(p.read_text() for p in (tmp_path / "exports").rglob("*.jsonl"))
    assert FAKE_KEY not in raw
    assert FAKE_KEY[3:20] not in raw


def test_generation_settings_reach_every_call(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[f]", [call("calculator", {"expression": "6*7"}), answer("42")])
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("f", expected_answer="42")])
    settings = with_settings(settings_for(chat_server, tasks_file), generation=GenerationSettings(0.2, 0.9, 64, 7))
    exported = run_embedded(tmp_path, settings)
    for request in chat_server.requests:
        assert {k: request.body.get(k) for k in ("temperature", "top_p", "max_tokens", "seed")} == {
            "temperature": 0.2,
            "top_p": 0.9,
            "max_tokens": 64,
            "seed": 7,
        }
        assert [t["function"]["name"] for t in request.body["tools"]][-1] == "final_answer"
    (run,) = exported.named("smoltrace.run")
    assert run["attributes"]["gen_ai.request.seed"] == 7
    assert "smoltrace.run.unapplied_params" not in run["attributes"]
    chat = exported.named("chat ")[0]["attributes"]
    assert (chat["gen_ai.request.temperature"], chat["gen_ai.request.max_tokens"]) == (0.2, 64)


def test_settings_a_provider_does_not_support_are_recorded() -> None:
    client = ModelClient(
        ModelSettings("anthropic/claude-3-5-sonnet-20240620"), GenerationSettings(temperature=0.1, seed=3)
    )
    assert client.params == {"temperature": 0.1}
    assert client.unapplied == ["seed"]


def test_parallel_workers_run_tasks_at_once_and_no_more(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.hold_until_concurrent(3, timeout_s=10)
    tasks_file = write_tasks(tmp_path / "tasks.json", [task(f"p{n}", expected_answer="ok") for n in range(7)])
    exported = run_embedded(tmp_path, settings_for(chat_server, tasks_file, parallel_workers=3))
    assert chat_server.max_in_flight == 3
    assert exported.summary.succeeded == 7
    assert [r.task.id for r in exported.summary.results] == [f"p{n}" for n in range(7)]
    assert len({s["traceId"] for s in exported.named("invoke_agent")}) == 7


def test_malformed_tool_arguments_are_an_error_for_the_model(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    chat_server.script("[f]", [call("calculator", "6*7"), call("calculator", {"expr": "6*7"}), answer("42")])
    exported = _one(tmp_path, chat_server, {"expected_tool": "calculator", "expected_answer": "42"})
    errors = [m["content"] for r in chat_server.requests[1:] for m in r.body["messages"][-1:]]
    assert "not valid JSON" in errors[0]
    assert "unexpected argument(s) expr" in errors[1]
    assert [s["attributes"]["error.type"] for s in exported.named("execute_tool calculator")] == [
        "ToolArgumentError"
    ] * 2
    assert json.loads(json.dumps(exported.root("f")["attributes"]["smoltrace.task.tools_used"])) == ["calculator"] * 2


def test_tool_call_turns_keep_a_content_field_for_local_servers(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    """litellm drops a None content; llama.cpp's function-calling templates then fail with HTTP 500."""
    chat_server.script("[f]", [call("calculator", {"expression": "6*7"}), answer("42")])
    _one(tmp_path, chat_server)
    assistant = chat_server.requests[1].body["messages"][2]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == ""
    assert assistant["tool_calls"][0]["function"]["name"] == "calculator"
    assert chat_server.requests[0].body["tool_choice"] == "auto"
