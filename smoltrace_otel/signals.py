"""SIGTERM and SIGINT handling shared by our long-running commands.

SIGINT already raises KeyboardInterrupt; :func:`sigterm_raises` makes SIGTERM raise
:class:`Terminated` (a KeyboardInterrupt) too, so one ``try/finally`` path flushes
telemetry for both. :func:`on_termination` instead calls a function (the sidecar uses
it to take a last sample and stop its loop).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM arrives."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def on_termination(callback: Callable[[int], None]) -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT call ``callback(signum)`` instead of stopping."""
    if not _in_main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        callback(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
