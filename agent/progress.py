"""Run progress: a one-line bar on a terminal, one log line per task otherwise."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from typing import TextIO

from agent.loop import TaskResult

logger = logging.getLogger("agent.progress")


class Progress:
    """Reports finished tasks; draws a bar on ``stream`` when it is a terminal."""

    def __init__(self, total: int, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.bar = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.succeeded = 0
        self.errors = 0
        self.started = time.monotonic()

    def task_done(self, result: TaskResult) -> None:
        self.done += 1
        self.succeeded += int(result.score.success)
        self.errors += int(result.outcome.stop_reason in ("error", "timeout"))
        if self.bar:
            self._draw()
            return
        verdict = "success" if result.score.success else f"fail ({result.outcome.stop_reason})"
        logger.info(
            "[%d/%d] task %s: %s, %d step(s), %.1f s%s",
            self.done,
            self.total,
            result.task.id,
            verdict,
            result.steps,
            result.duration_s,
            f": {result.error}" if result.error else "",
        )

    def _draw(self) -> None:
        width = max(10, min(40, shutil.get_terminal_size((80, 20)).columns - 50))
        filled = int(width * self.done / self.total) if self.total else width
        elapsed = time.monotonic() - self.started
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"ok={self.succeeded} errors={self.errors} {elapsed:.0f}s"
        )
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.bar and self.done:
            self.stream.write("\n")
            self.stream.flush()
