"""The settings of one evaluation run, grouped by concern in frozen dataclasses.

``smoltrace agent`` builds them from its flags (``agent/cli.py``); ``smoltrace run`` and
other callers build them directly and pass them to :func:`agent.runner.run_evaluation`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from smoltrace_otel.errors import UsageError

AgentType = Literal["tool", "code", "both"]
AGENT_TYPES: tuple[str, ...] = ("tool", "code", "both")
BUILT_AGENT_TYPES: tuple[str, ...] = ("tool",)
AGENT_NAME = "smoltrace-tool-agent"
"""``gen_ai.agent.name`` of the tool-calling agent (the root span is ``invoke_agent {AGENT_NAME}``)."""
PLACEHOLDER_API_KEY = "EMPTY"
"""Sent to an OpenAI-compatible ``--api-base`` when no key is configured (vLLM's convention)."""


@dataclass(frozen=True)
class ModelSettings:
    """Which model to call, where, and how patiently."""

    model: str
    """A litellm model id: ``openai/gpt-4o-mini``, ``anthropic/claude-...``, ``openai/<name>`` with ``api_base``..."""
    api_base: str | None = None
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (a key never appears on a command line)."""
    request_timeout_s: float = 60.0
    retries: int = 3
    """Extra attempts after a rate limit (429), a timeout, a connection error or a 5xx."""
    retry_backoff_s: float = 1.0
    """First backoff; doubled each attempt (with jitter), capped at 30 s; a ``Retry-After`` header wins."""
    tool_results_as_user: bool = False
    """Send tool results as ``user`` messages; for servers whose chat template drops ``tool`` messages
    (the offline llama.cpp model sets it)."""

    def api_key(self) -> str | None:
        """The key from ``api_key_env``; raises UsageError when that variable is unset."""
        if self.api_key_env is None:
            return None
        value = os.environ.get(self.api_key_env)
        if not value:
            raise UsageError(f"--api-key-env {self.api_key_env}: that environment variable is not set")
        return value


@dataclass(frozen=True)
class GenerationSettings:
    """Sampling settings passed to every model call; ``None`` leaves the provider default."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None

    def as_params(self) -> dict[str, float | int]:
        """The settings that were given, as OpenAI parameter names."""
        values = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based): tasks ``index-1``, ``index-1+count``... of the filtered list."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"I/N"`` with 1 <= I <= N."""
        try:
            left, right = text.split("/")
            shard = cls(int(left), int(right))
        except ValueError:
            raise UsageError(f"--shard {text!r}: expected I/N, e.g. 2/4") from None
        if not 1 <= shard.index <= shard.count:
            raise UsageError(f"--shard {text!r}: need 1 <= I <= N")
        return shard


@dataclass(frozen=True)
class TaskSource:
    """Where the tasks come from and which of them run."""

    path: Path | None = None
    """A local ``.json`` or ``.jsonl`` file; with neither ``path`` nor ``dataset_name`` the built-in set runs."""
    dataset_name: str | None = None
    """A Hugging Face Hub dataset repo id."""
    dataset_revision: str | None = None
    """Branch, tag or commit; resolved to a commit sha and recorded (default: the main branch's head)."""
    split: str = "train"
    difficulty: tuple[str, ...] = ()
    limit: int | None = None
    shard: Shard | None = None
    skip_ids: frozenset[str] = frozenset()
    """Task ids to leave out after selection: those a resumed run already finished."""

    @property
    def label(self) -> str:
        """How the run span names the task set."""
        if self.dataset_name:
            return self.dataset_name
        if self.path:
            return str(self.path)
        return "builtin:default_tasks"


@dataclass(frozen=True)
class LoopSettings:
    """Limits of one task's tool-calling loop."""

    max_steps: int = 6
    """Model calls per task; running out is ``stop_reason=max_steps`` and never a success."""
    task_timeout_s: float = 300.0
    tool_timeout_s: float = 10.0


@dataclass(frozen=True)
class RunOptions:
    """How the run is scheduled and shown."""

    parallel_workers: int = 1
    agent_type: str = "tool"
    progress: bool | None = None
    """A progress bar; ``None``: when stderr is a terminal."""


@dataclass(frozen=True)
class AgentSettings:
    """Everything :func:`agent.runner.run_evaluation` needs besides telemetry."""

    model: ModelSettings
    tasks: TaskSource = field(default_factory=TaskSource)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    loop: LoopSettings = field(default_factory=LoopSettings)
    run: RunOptions = field(default_factory=RunOptions)

    def check(self) -> None:
        """Refuse settings that cannot run (UsageError, exit 2), before anything is loaded or called."""
        if self.run.agent_type not in AGENT_TYPES:
            raise UsageError(f"--agent-type {self.run.agent_type!r}: choose one of {', '.join(AGENT_TYPES)}")
        if self.run.agent_type not in BUILT_AGENT_TYPES:
            raise UsageError(
                f"--agent-type {self.run.agent_type}: only the tool-calling agent ('tool') is available in this "
                "version; the code agent is not built yet. Run with --agent-type tool."
            )
        if self.tasks.path and self.tasks.dataset_name:
            raise UsageError("give either --tasks-file or --dataset-name, not both")
        positive = {
            "--max-steps": self.loop.max_steps,
            "--parallel-workers": self.run.parallel_workers,
            "--task-timeout": self.loop.task_timeout_s,
            "--tool-timeout": self.loop.tool_timeout_s,
            "--request-timeout": self.model.request_timeout_s,
        }
        for flag, value in positive.items():
            if not value > 0:
                raise UsageError(f"{flag} must be greater than 0 (got {value})")
        if self.model.retries < 0:
            raise UsageError(f"--retries must be 0 or more (got {self.model.retries})")
        if self.tasks.limit is not None and self.tasks.limit < 1:
            raise UsageError(f"--limit must be 1 or more (got {self.tasks.limit})")
        if not self.model.model.strip():
            raise UsageError("--model is empty")
