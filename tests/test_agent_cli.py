"""``smoltrace agent`` as a user runs it: flags refused early, exit codes, signals, an unreachable Collector."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.agent_support import exported_from, task, write_tasks
from tests.conftest import PYTHON, subprocess_env
from tests.doubles.chat_server import ChatServerDouble, answer, text
from tests.doubles.collector import CollectorDouble

FAKE_KEY = "sk-clitest-0123456789abcdefghij"


def _command(server: ChatServerDouble, tasks_file: Path, exports: Path, *extra: str) -> list[str]:
    return [
        PYTHON, "-m", "smoltrace_otel", "agent",
        "--model", "openai/gpt-4o-mini", "--api-base", server.api_base,
        "--tasks-file", str(tasks_file), "--exports-dir", str(exports), "--retry-backoff", "0.01",
        *extra,
    ]  # fmt: skip


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=subprocess_env(**env), timeout=120)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--run-id", "../escape"], "invalid run id '../escape'"),
        (["--agent-type", "code"], "only the tool-calling agent ('tool') is available"),
        (["--shard", "3/2"], "--shard '3/2': need 1 <= I <= N"),
        (["--max-steps", "0"], "--max-steps must be greater than 0"),
    ],
)
def test_bad_flags_are_refused_before_anything_is_written(
    extra: list[str], message: str, tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("a", expected_answer="1")])
    result = _run(_command(chat_server, tasks_file, tmp_path / "exports", *extra))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "exports").exists()
    assert chat_server.requests == []


def test_malformed_task_file_names_the_place_and_writes_nothing(tmp_path: Path, chat_server: ChatServerDouble) -> None:
    tasks_file = write_tasks(
        tmp_path / "tasks.json", [task("a", expected_answer="1"), task("b", expected_tool_calls="x")]
    )
    result = _run(_command(chat_server, tasks_file, tmp_path / "exports"))
    assert result.returncode == 2
    assert f"{tasks_file}: record 2 (id 'b'): field 'expected_tool_calls'" in result.stderr
    assert not (tmp_path / "exports").exists()
    assert chat_server.requests == []


def test_authentication_error_exits_3_with_a_clear_redacted_message(
    tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    chat_server.fail_next(401, message="Incorrect API key provided: {api_key}")
    tasks_file = write_tasks(tmp_path / "tasks.json", [task("a", expected_answer="1"), task("b", expected_answer="1")])
    result = _run(
        _command(chat_server, tasks_file, tmp_path / "exports", "--api-key-env", "CLI_TEST_KEY", "--run-id", "auth"),
        CLI_TEST_KEY=FAKE_KEY,
    )
    assert result.returncode == 3
    assert "smoltrace agent: error: model openai/gpt-4o-mini: HTTP 401, the run stops" in result.stderr
    assert FAKE_KEY not in result.stderr + result.stdout
    assert len(chat_server.requests) == 1
    assert list((tmp_path / "exports" / "auth").glob("traces-*.jsonl"))


def test_unreachable_collector_still_finishes_and_counts_lost_spans(
    tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    down = CollectorDouble(tmp_path / "down").start()
    endpoint = down.endpoint
    down.stop(0)
    tasks_file = write_tasks(
        tmp_path / "tasks.json", [task("a", expected_answer="ok"), task("b", expected_answer="ok")]
    )
    result = _run(
        _command(chat_server, tasks_file, tmp_path / "exports", "--otlp-endpoint", endpoint, "--run-id", "lost"),
        OTEL_EXPORTER_OTLP_TIMEOUT="1",
    )
    assert result.returncode == 0, result.stderr
    assert "run lost: 2/2 task(s) succeeded" in result.stdout
    assert "7 span(s) could not be delivered" in result.stderr  # run + 2 x (root, chat, final_answer)
    assert not (tmp_path / "exports").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_mid_run_ends_open_spans_as_interrupted_and_flushes(
    signum: int, tmp_path: Path, chat_server: ChatServerDouble
) -> None:
    chat_server.script("[fast]", [answer("1")])
    chat_server.script("[slow]", [text("never sent", hang=True)])
    chat_server.script("[later]", [text("never sent", hang=True)])
    tasks = [task(name, expected_answer="1") for name in ("fast", "slow", "later", "never")]
    tasks_file = write_tasks(tmp_path / "tasks.json", tasks)
    args = _command(chat_server, tasks_file, tmp_path / "exports", "--run-id", "sig", "--parallel-workers", "2")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=subprocess_env())
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the fast task is done and the slow one hangs in its request
        if "task fast: success" in line:
            break
    assert chat_server.wait_for_requests(3, timeout_s=30)
    proc.send_signal(signum)
    assert proc.wait(timeout=30) == 130
    assert "smoltrace agent: interrupted" in proc.stderr.read()

    exported = exported_from(tmp_path / "exports" / "sig", None)
    (run,) = exported.named("smoltrace.run")
    assert run["attributes"]["smoltrace.run.status"] == "interrupted"
    assert run["attributes"]["smoltrace.run.completed_tasks"] == 1
    assert exported.root("fast")["attributes"]["smoltrace.score.success"] is True
    for name in ("slow", "later"):
        root = exported.root(name)
        assert root["attributes"]["smoltrace.task.stop_reason"] == "interrupted"
        assert root["attributes"]["smoltrace.score.success"] is False
        assert root["status"] == 2
        (chat,) = exported.children(root)
        assert chat["attributes"]["error.type"] == "interrupted"
        assert chat["status"] == 2
    assert "never" not in {r["attributes"]["smoltrace.task.id"] for r in exported.named("invoke_agent")}


def test_agent_help_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from smoltrace_otel.cli import main\n"
        "try:\n    main(['agent', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('litellm', 'huggingface_hub', 'pyarrow') if m in sys.modules))\n"
    )
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert "--parallel-workers" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"
