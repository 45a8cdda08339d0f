"""Wait until a service answers or a file has settled, then run a command: the glue docker-compose needs.

Compose runs health checks inside the checked container, and the Collector's image has no shell, curl or
wget, so the containers that need the Collector wait for its ``health_check`` endpoint here instead
(``--http``). The publisher waits until the run's trace file has stopped changing (``--settled``): the
Collector batches and flushes its files a moment after the last export reaches it. ``--completed-codes``
lets a run that completed with failed tasks (``smoltrace agent`` exit code 1) count as completed, so that
compose's ``service_completed_successfully`` still starts the publisher::

    python -m smoltrace_otel.waitfor --http http://collector:13133/ -- smoltrace agent ...
    python -m smoltrace_otel.waitfor --settled /exports/RUN/traces.jsonl --settle-seconds 10 -- smoltrace publish ...

Exit status: the command's (see ``--completed-codes``), 0 with no command, 3 when a wait timed out.
Only the standard library is used, so the GPU sidecar's image has it too.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from smoltrace_otel.errors import ExitCode, SmoltraceError, UsageError

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Snapshot = tuple[tuple[str, int, int], ...]


class WaitTimeoutError(SmoltraceError):
    """What we waited for did not happen in time."""


@dataclass(frozen=True)
class WaitSettings:
    """What to wait for before the command runs."""

    http: tuple[str, ...] = ()
    """URLs that must answer a GET with a 2xx status."""
    settled: Path | None = None
    """A file or directory that must stay unchanged for ``settle_s`` seconds."""
    settle_s: float = 10.0
    timeout_s: float = 120.0
    """For each wait; then the command does not run."""
    poll_s: float = 0.5
    completed_codes: frozenset[int] = field(default_factory=frozenset)
    """Command exit codes reported as 0; empty: the command replaces this process (exec)."""


def http_ready(url: str, timeout_s: float = 2.0) -> bool:
    """True when a GET on ``url`` answers with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (scheme checked in parse_args)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_http(
    url: str, timeout_s: float, poll_s: float = 0.5, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
) -> None:
    """Return once ``url`` answers 2xx; raise WaitTimeoutError after ``timeout_s`` seconds."""
    deadline = clock() + timeout_s
    while not http_ready(url, timeout_s=min(2.0, max(timeout_s, 0.1))):
        if clock() >= deadline:
            raise WaitTimeoutError(f"{url} did not answer within {timeout_s:g} s")
        sleep(poll_s)
    logger.info("%s is up", url)


def snapshot(path: Path) -> Snapshot:
    """Name, size and modification time of ``path`` (a file) or of every file under it (a directory)."""
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
    else:
        return ()
    entries = []
    for file in files:
        try:
            stat = file.stat()
        except FileNotFoundError:
            continue
        entries.append((str(file), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def wait_settled(
    path: Path,
    settle_s: float,
    timeout_s: float,
    poll_s: float = 0.5,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> None:
    """Return once ``path`` has not changed for ``settle_s`` seconds; raise WaitTimeoutError after ``timeout_s``.

    A path that does not exist counts as unchanged, so a run that exported nothing still reaches the
    command (which then says what is missing).
    """
    start = clock()
    last = snapshot(path)
    changed_at = start
    while True:
        now = clock()
        if now - changed_at >= settle_s:
            break
        if now - start >= timeout_s:
            raise WaitTimeoutError(f"{path} kept changing for {timeout_s:g} s")
        sleep(poll_s)
        current = snapshot(path)
        if current != last:
            last, changed_at = current, clock()
    if not last:
        logger.warning("%s does not exist (yet); going on", path)
    else:
        logger.info("%s unchanged for %g s", path, settle_s)


def run_command(command: Sequence[str], completed_codes: frozenset[int]) -> int:
    """Run ``command``: exec it, or (with ``completed_codes``) run it as a child and map its exit code."""
    if not completed_codes:
        os.execvp(command[0], list(command))  # noqa: S606 (the command line comes from our compose file)
    child = subprocess.Popen(list(command))

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    code = child.wait()
    if code < 0:
        return 128 - code
    if code in completed_codes and code != 0:
        logger.info("%s exited with %d, counted as completed", command[0], code)
        return int(ExitCode.OK)
    return code


def _codes(text: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated exit codes, got {text!r}") from None


def _http_url(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise argparse.ArgumentTypeError(f"expected an http:// or https:// URL, got {text!r}")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m smoltrace_otel.waitfor",
        description="Wait until URLs answer and/or a file has settled, then run the command given after --.",
    )
    parser.add_argument(
        "--http",
        action="append",
        type=_http_url,
        default=[],
        metavar="URL",
        help="wait until a GET answers 2xx (repeatable)",
    )
    parser.add_argument("--settled", type=Path, metavar="PATH", help="wait until this file or directory stops changing")
    parser.add_argument(
        "--settle-seconds", type=float, default=10.0, help="how long PATH must stay unchanged (default: 10)"
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed for each wait (default: 120)")
    parser.add_argument(
        "--completed-codes", type=_codes, default=frozenset(), help="command exit codes to report as 0, e.g. 0,1"
    )
    return parser


def parse_args(argv: Sequence[str]) -> tuple[WaitSettings, list[str]]:
    """Settings and the command (everything after ``--``)."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = build_parser().parse_args(argv[:split])
    command = argv[split + 1 :]
    if args.completed_codes and not command:
        raise UsageError("--completed-codes needs a command after --")
    settings = WaitSettings(
        http=tuple(args.http),
        settled=args.settled,
        settle_s=args.settle_seconds,
        timeout_s=args.timeout,
        completed_codes=args.completed_codes,
    )
    return settings, command


def main(argv: Sequence[str] | None = None) -> int:
    from smoltrace_otel.logs import configure_logging

    configure_logging()
    try:
        settings, command = parse_args(sys.argv[1:] if argv is None else argv)
        for url in settings.http:
            wait_http(url, settings.timeout_s, settings.poll_s)
        if settings.settled is not None:
            wait_settled(settings.settled, settings.settle_s, settings.timeout_s, settings.poll_s)
    except SmoltraceError as error:
        print(f"waitfor: error: {error}", file=sys.stderr)  # noqa: T201
        return int(error.exit_code)
    return run_command(command, settings.completed_codes) if command else int(ExitCode.OK)


if __name__ == "__main__":
    sys.exit(main())
