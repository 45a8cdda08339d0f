"""Each scoring rule, applied to real runs against the chat server double through litellm."""

from __future__ import annotations

import pytest

from agent.scoring import Outcome, answer_matches, keywords_match, normalise, score
from agent.tasks import Task
from tests.agent_support import run_embedded, settings_for, task, write_tasks
from tests.doubles.chat_server import answer, call, text

SCRIPTED = {
    # task id: (task fields, turns)
    "ok_answer": (
        {"expected_tool": "calculator", "expected_answer": "42"},
        [call("calculator", {"expression": "6*7"}), answer("The answer is 42.")],
    ),
    "wrong_answer": (
        {"expected_tool": "calculator", "expected_answer": "42"},
        [call("calculator", {"expression": "6*7"}), answer("41")],
    ),
    "wrong_tool": (
        {"expected_tool": "get_weather", "expected_answer": "42"},
        [call("calculator", {"expression": "6*7"}), answer("42")],
    ),
    "no_tool": ({"expected_tool": "calculator", "expected_answer": "42"}, [answer("42")]),
    "keywords_hit": (
        {"expected_tool": "get_weather", "expected_keywords": ["rain", "sunny"]},
        [call("get_weather", {"city": "Paris"}), answer("Sunny, 22 C")],
    ),
    "keywords_miss": (
        {"expected_tool": "get_weather", "expected_keywords": ["rain"]},
        [call("get_weather", {"city": "Paris"}), answer("Sunny")],
    ),
    "plain_text": ({"expected_answer": "Paris"}, [text("The capital of France is Paris.")]),
    "tool_only": ({"expected_tool": "country_info"}, [call("country_info", {"country": "Japan"}), answer("done")]),
    "too_few_calls": (
        {"expected_tool": "get_weather", "expected_tool_calls": 2, "expected_answer": "Paris"},
        [call("get_weather", {"city": "Paris"}), answer("Paris")],
    ),
    "call_list": (
        {"expected_tool_calls": ["country_info", "calculator"], "expected_answer": "3.10"},
        [
            call("country_info", {"country": "Japan"}),
            call("calculator", {"expression": "124.5/40.1"}),
            answer("about 3.1047"),
        ],
    ),
    "any_tools": (
        {"expected_tool": "multiple", "expected_tool_calls": 2, "expected_answer": "60"},
        [
            call("days_between", {"start_date": "2024-01-01", "end_date": "2024-03-01"}),
            call("calculator", {"expression": "60"}),
            answer(60),
        ],
    ),
    "unknown_tool": (
        {"expected_tool": "calculator", "expected_answer": "4"},
        [call("web_search", {"query": "2+2"}), answer("4")],
    ),
    "bad_final_then_good": (
        {"expected_answer": "Tokyo"},
        [call("final_answer", {"city": "x", "country": "y"}), answer("Tokyo")],
    ),
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    """One run of every scripted task; returns the exported spans."""
    from tests.doubles.chat_server import running_chat_server

    tmp_path = tmp_path_factory.mktemp("scoring")
    with running_chat_server() as server:
        for task_id, (_fields, turns) in SCRIPTED.items():
            server.script(f"[{task_id}]", turns)
        tasks_file = write_tasks(tmp_path / "tasks.json", [task(i, **fields) for i, (fields, _) in SCRIPTED.items()])
        exported = run_embedded(tmp_path, settings_for(server, tasks_file, parallel_workers=4))
    assert exported.summary.completed == len(SCRIPTED)
    return exported


def _scores(exported, task_id: str) -> dict:
    attributes = exported.root(task_id)["attributes"]
    return {k.removeprefix("smoltrace.score."): v for k, v in attributes.items() if k.startswith("smoltrace.score.")}


def test_correct_tool_and_answer_is_a_success(scored) -> None:
    assert _scores(scored, "ok_answer") == {
        "tool_called": True,
        "correct_tool": True,
        "final_answer_called": True,
        "response_correct": True,
        "success": True,
        "rule": "expected_answer",
    }
    root = scored.root("ok_answer")
    assert root["attributes"]["smoltrace.task.final_answer"] == "The answer is 42."
    assert root["attributes"]["smoltrace.task.stop_reason"] == "final_answer"


def test_wrong_answer_fails_response_correct(scored) -> None:
    scores = _scores(scored, "wrong_answer")
    assert (scores["correct_tool"], scores["response_correct"], scores["success"]) == (True, False, False)


def test_wrong_or_missing_tool_fails_correct_tool(scored) -> None:
    wrong = _scores(scored, "wrong_tool")
    assert (wrong["tool_called"], wrong["correct_tool"], wrong["response_correct"], wrong["success"]) == (
        True,
        False,
        True,
        False,
    )
    none = _scores(scored, "no_tool")
    assert (none["tool_called"], none["correct_tool"], none["success"]) == (False, False, False)


def test_keywords_rule_needs_one_keyword(scored) -> None:
    hit, miss = _scores(scored, "keywords_hit"), _scores(scored, "keywords_miss")
    assert (hit["rule"], hit["response_correct"], hit["success"]) == ("expected_keywords", True, True)
    assert (miss["rule"], miss["response_correct"], miss["success"]) == ("expected_keywords", False, False)


def test_plain_text_reply_is_the_answer_but_not_a_final_answer_call(scored) -> None:
    scores = _scores(scored, "plain_text")
    assert scores["final_answer_called"] is False
    assert scores["response_correct"] is True
    assert scores["success"] is False
    root = scored.root("plain_text")["attributes"]
    assert root["smoltrace.task.final_answer"] == "The capital of France is Paris."
    assert root["smoltrace.task.stop_reason"] == "final_answer"
    assert root["smoltrace.task.steps"] == 1


def test_task_without_answer_check_is_scored_on_tools_only(scored) -> None:
    scores = _scores(scored, "tool_only")
    assert "response_correct" not in scores
    assert scores["rule"] == "none"
    assert scores["success"] is True
    events = dict((e[1]["gen_ai.evaluation.name"], e[1]) for e in scored.root("tool_only")["events"])
    assert "response_correct" not in events
    assert "not checked" in events["success"]["gen_ai.evaluation.explanation"]


def test_expected_tool_calls_count_and_list(scored) -> None:
    assert _scores(scored, "too_few_calls")["correct_tool"] is False
    assert _scores(scored, "call_list")["correct_tool"] is True
    assert _scores(scored, "call_list")["success"] is True
    assert _scores(scored, "any_tools")["correct_tool"] is True


def test_unknown_tool_is_not_a_tool_call_and_model_hears_the_error(scored) -> None:
    scores = _scores(scored, "unknown_tool")
    assert (scores["tool_called"], scores["correct_tool"]) == (False, False)
    root = scored.root("unknown_tool")
    (tool_span,) = [s for s in scored.children(root) if s["name"] == "execute_tool web_search"]
    assert tool_span["status"] == 2
    assert tool_span["attributes"]["error.type"] == "LookupError"


def test_final_answer_with_bad_arguments_lets_the_model_retry(scored) -> None:
    scores = _scores(scored, "bad_final_then_good")
    assert scores["final_answer_called"] is True
    assert scores["success"] is True
    assert scored.root("bad_final_then_good")["attributes"]["smoltrace.task.steps"] == 2


def test_evaluation_events_carry_each_score(scored) -> None:
    events = scored.root("wrong_answer")["events"]
    assert {name for name, _ in events} == {"gen_ai.evaluation.result"}
    by_name = {attrs["gen_ai.evaluation.name"]: attrs for _, attrs in events}
    assert set(by_name) == {"tool_called", "correct_tool", "final_answer_called", "response_correct", "success"}
    assert by_name["response_correct"]["gen_ai.evaluation.score.value"] == 0.0
    assert by_name["response_correct"]["gen_ai.evaluation.score.label"] == "fail"
    assert by_name["correct_tool"]["gen_ai.evaluation.score.value"] == 1.0


# --- the rules as functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected", "ok"),
    [
        ("42", "42", True),
        ("The answer is 42.", "42", True),
        ("42.0", "42", True),
        ("15,678", "15678", True),
        ("2 + 40 = 41", "42", False),
        ("41 or maybe 42", "42", True),  # the last number counts
        ("42 (from 6*7)", "42", False),
        ("6.2137 miles", "6.21", True),
        ("6.2", "6.21", False),
        ("45.57", "45", False),
        ("-3", "-3", True),
        ("Tokyo", "tokyo", True),
        ("The capital is Tokyo.", "Tokyo", True),
        ("Tokyoite", "Tokyo", False),
        ("Brasilia", "Brasília", True),
        ("New Delhi", "Delhi", True),
        ("", "Paris", False),
    ],
)
def test_expected_answer_matching(given: str, expected: str, ok: bool) -> None:
    assert answer_matches(given, expected) is ok


def test_normalise_and_keywords() -> None:
    assert normalise("  The  Real, (BRL)! ") == "real brl"
    assert keywords_match("It is RAINY today", ["rain"])
    assert not keywords_match("It is dry", ["rain", "snow"])


def test_running_out_of_steps_is_never_a_success() -> None:
    t = Task(id="t", prompt="p", expected_tool="calculator")
    for reason in ("max_steps", "timeout", "error", "interrupted"):
        result = score(t, Outcome(("calculator",), True, "x", reason))
        assert result.success is False, reason
        assert reason in result.explanation
