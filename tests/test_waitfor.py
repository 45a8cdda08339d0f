"""The compose glue: wait for the Collector's health endpoint, for settled files, then run the command."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from smoltrace_otel.waitfor import WaitTimeoutError, wait_settled
from tests.conftest import PYTHON, subprocess_env

WAITFOR = [PYTHON, "-m", "smoltrace_otel.waitfor"]


@contextmanager
def health_server(failures_before_ok: int) -> Iterator[tuple[str, list[int]]]:
    """An HTTP server on a free loopback port answering 503 ``failures_before_ok`` times, then 200."""
    answered: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 503 if len(answered) < failures_before_ok else 200
            answered.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", answered
    finally:
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_command_runs_once_the_health_endpoint_answers_200() -> None:
    with health_server(failures_before_ok=2) as (url, answered):
        done = subprocess.run(
            [*WAITFOR, "--http", url, "--timeout", "30", "--", PYTHON, "-c", "print('agent started')"],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "agent started"
    assert answered[:3] == [503, 503, 200]


def test_unreachable_collector_times_out_without_running_the_command(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    url = f"http://127.0.0.1:{_closed_port()}/"
    done = subprocess.run(
        [*WAITFOR, "--http", url, "--timeout", "0.5", "--", PYTHON, "-c", f"open({str(marker)!r}, 'w')"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert url in done.stderr and "did not answer" in done.stderr
    assert not marker.exists()


def test_non_http_url_is_refused_as_bad_input() -> None:
    done = subprocess.run(
        [*WAITFOR, "--http", "file:///etc/passwd"], env=subprocess_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "http:// or https://" in done.stderr


class _FakeTime:
    """A clock that only moves when the code under test sleeps; each sleep may append to a file."""

    def __init__(self, file: Path, writes: int) -> None:
        self.now = 0.0
        self.file = file
        self.writes_left = writes

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.writes_left:
            self.writes_left -= 1
            with self.file.open("a") as out:
                out.write('{"resourceSpans": []}\n')


def test_settled_waits_until_the_collector_stopped_writing(tmp_path: Path) -> None:
    traces = tmp_path / "traces.jsonl"
    traces.write_text("")
    fake = _FakeTime(traces, writes=8)
    wait_settled(traces, settle_s=2.0, timeout_s=60, poll_s=0.5, clock=fake.clock, sleep=fake.sleep)
    assert fake.writes_left == 0
    assert traces.read_text().count("\n") == 8
    # the last write happened at t=4.0; the wait ends 2 s of quiet later
    assert fake.now == pytest.approx(6.0)


def test_settled_gives_up_on_a_file_that_never_stops_changing(tmp_path: Path) -> None:
    traces = tmp_path / "traces.jsonl"
    fake = _FakeTime(traces, writes=10_000)
    with pytest.raises(WaitTimeoutError, match="kept changing"):
        wait_settled(traces, settle_s=2.0, timeout_s=30, poll_s=0.5, clock=fake.clock, sleep=fake.sleep)


def test_settled_on_a_missing_path_goes_on_after_the_quiet_period(tmp_path: Path) -> None:
    fake = _FakeTime(tmp_path / "unused", writes=0)
    wait_settled(tmp_path / "missing" / "traces.jsonl", settle_s=1.0, timeout_s=30, clock=fake.clock, sleep=fake.sleep)
    assert fake.now == pytest.approx(1.0)


def test_settled_watches_every_file_under_a_directory(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    fake = _FakeTime(run_dir / "metrics.jsonl", writes=3)
    wait_settled(run_dir, settle_s=1.0, timeout_s=30, poll_s=0.5, clock=fake.clock, sleep=fake.sleep)
    assert fake.now == pytest.approx(2.5)


@pytest.mark.parametrize(("child_code", "expected"), [(0, 0), (1, 0), (2, 2), (3, 3)])
def test_completed_codes_let_a_run_with_failed_tasks_count_as_completed(child_code: int, expected: int) -> None:
    done = subprocess.run(
        [*WAITFOR, "--completed-codes", "0,1", "--", PYTHON, "-c", f"raise SystemExit({child_code})"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == expected, done.stderr


def test_without_completed_codes_the_exit_code_passes_through() -> None:
    done = subprocess.run([*WAITFOR, "--", PYTHON, "-c", "raise SystemExit(1)"], env=subprocess_env(), timeout=60)
    assert done.returncode == 1


def test_sigterm_reaches_the_command_so_it_can_flush(tmp_path: Path) -> None:
    marker = tmp_path / "flushed"
    child = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(marker)!r}, 'w').write('ok'), sys.exit(0)))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [*WAITFOR, "--completed-codes", "0,1", "--", PYTHON, "-c", child],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.terminate()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert marker.read_text() == "ok"


def test_completed_codes_without_a_command_is_a_usage_error() -> None:
    done = subprocess.run(
        [*WAITFOR, "--completed-codes", "0,1"], env=subprocess_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "needs a command" in done.stderr
