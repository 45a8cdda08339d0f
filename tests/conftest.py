"""Shared fixtures: a clean environment for OTel variables and servers on free loopback ports."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "otlp-json"
"""Real OTLP JSON samples (copied from ../shared/fixtures; see SOURCES.md there)."""

_OTEL_PREFIXES = ("OTEL_", "SMOLTRACE_")


@pytest.fixture(autouse=True)
def _clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test inherits OTLP endpoints or resource attributes from the machine it runs on."""
    for name in list(os.environ):
        if name.startswith(_OTEL_PREFIXES):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[object]:
    """A Collector double on a free port writing under ``tmp_path/collector``."""
    from tests.doubles.collector import running_collector

    with running_collector(tmp_path / "collector") as double:
        yield double


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A fake Hugging Face Hub on a free port; this process's ``huggingface_hub`` points at it.

    Its one user is ``alice`` with the write token ``tests.doubles.fake_hub.TEST_TOKEN`` (set as
    ``HF_TOKEN``); ``HF_HOME`` is a temporary directory.
    """
    from tests.doubles.fake_hub import point_client_at, running_fake_hub

    with running_fake_hub() as hub:
        point_client_at(hub, str(tmp_path / "hf-home"), monkeypatch)
        yield hub


@pytest.fixture
def chat_server() -> Iterator[object]:
    """An OpenAI-compatible chat server double on a free port (see tests/doubles/chat_server.py)."""
    from tests.doubles.chat_server import running_chat_server

    with running_chat_server() as double:
        yield double


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child Python processes: this checkout importable, no stray OTel config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OTEL_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


PYTHON = sys.executable
