"""Model calls through litellm: per-request timeout, retries with backoff, fatal errors, cost.

* ``LITELLM_LOCAL_MODEL_COST_MAP=True`` is set before litellm is imported, so prices come
  from the map shipped with the pinned litellm: offline and the same on every run.
  A model the map does not know gets no cost (``None``), never an invented 0.
* Retried, with exponential backoff and jitter (a ``Retry-After`` header wins): 429, request
  timeouts, connection errors and 5xx. litellm's and the OpenAI client's own retries are
  turned off so that every attempt is counted here.
* Fatal for the whole run (:class:`ModelAuthError`): 401, 403 and 404 (a wrong key, no
  access, or a model or endpoint that does not exist would fail every task alike).
* Anything else (400, a context window exceeded, an unreadable response) fails the task.
* Generation settings go to every call; those the provider does not support (per
  ``litellm.get_supported_openai_params``) are not sent and are listed in ``unapplied``.

Error texts are redacted (the API key and every secret-looking value) before they leave
this module.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from agent.settings import PLACEHOLDER_API_KEY, GenerationSettings, ModelSettings
from smoltrace_otel import env
from smoltrace_otel.errors import SmoltraceError, UsageError
from smoltrace_otel.redact import Redactor

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 60.0
FATAL_STATUS = (401, 403, 404)


def import_litellm() -> Any:
    """litellm, imported with the offline price map and without its console chatter."""
    if "litellm" not in sys.modules:
        os.environ[env.LITELLM_LOCAL_MODEL_COST_MAP] = "True"
    elif os.environ.get(env.LITELLM_LOCAL_MODEL_COST_MAP) != "True":
        logger.warning(
            "litellm was imported before %s=True was set: costs may use a downloaded price map",
            env.LITELLM_LOCAL_MODEL_COST_MAP,
        )
    import litellm

    litellm.suppress_debug_info = True
    return litellm


class ModelAuthError(SmoltraceError):
    """The provider refused our credentials or does not know the model: the run stops."""


class ModelCallError(Exception):
    """A model call failed for this task (after its retries)."""

    def __init__(self, message: str, error_type: str, attempts: int, timed_out: bool = False) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.attempts = attempts
        self.timed_out = timed_out


class Cancelled(Exception):
    """The run is stopping (interrupt or fatal error) while this call waited to retry."""


@dataclass(frozen=True)
class ToolCallRequest:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatResult:
    """One successful model call."""

    content: str | None
    tool_calls: tuple[ToolCallRequest, ...]
    response_model: str | None
    response_id: str | None
    finish_reasons: tuple[str, ...]
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    attempts: int

    def assistant_message(self, empty_content: str | None = None) -> dict[str, Any]:
        """The message to append to the conversation (``empty_content`` stands in for no content)."""
        message: dict[str, Any] = {"role": "assistant", "content": self.content or empty_content}
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        return message


class ModelClient:
    """Calls one model with fixed settings; safe to share between worker threads.

    ``cancel`` interrupts the wait before a retry (the run is stopping).
    """

    def __init__(
        self,
        settings: ModelSettings,
        generation: GenerationSettings | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.generation = generation or GenerationSettings()
        self.cancel = cancel or threading.Event()
        self._litellm = import_litellm()
        self.api_key = self.settings.api_key()
        try:
            _, provider, _, _ = self._litellm.get_llm_provider(self.settings.model, api_base=self.settings.api_base)
        except Exception:  # litellm raises BadRequestError when it cannot tell the provider
            raise UsageError(
                f"--model {self.settings.model}: litellm cannot tell its provider; prefix it, "
                f"e.g. openai/{self.settings.model} (with --api-base for an OpenAI-compatible server)"
            ) from None
        self.provider: str = provider
        self.model_name = (
            self.settings.model.split("/", 1)[1]
            if self.settings.model.startswith(f"{provider}/")
            else self.settings.model
        )
        if self.api_key is None and self.settings.api_base and not _provider_key_in_env(provider):
            self.api_key = PLACEHOLDER_API_KEY
        supported = self._supported_params()
        wanted = self.generation.as_params()
        self.params = {k: v for k, v in wanted.items() if supported is None or k in supported}
        self.unapplied = sorted(set(wanted) - set(self.params))
        if self.unapplied:
            logger.warning("%s does not support %s: not sent", self.settings.model, ", ".join(self.unapplied))
        parsed = urlparse(self.settings.api_base) if self.settings.api_base else None
        self.server_address = parsed.hostname if parsed else None
        self.server_port = parsed.port if parsed else None
        self._cost_known: bool | None = None
        self._redactor = Redactor(self.secrets())

    def _supported_params(self) -> list[str] | None:
        try:
            return self._litellm.get_supported_openai_params(model=self.model_name, custom_llm_provider=self.provider)
        except Exception:  # an unknown provider: send everything and let litellm drop what it must
            logger.debug("no supported-parameter list for %s", self.settings.model, exc_info=True)
            return None

    def history_message(self, result: ChatResult) -> dict[str, Any]:
        """``result`` as the assistant message the next request carries.

        For an OpenAI-compatible ``--api-base`` an assistant message without text gets ``""``
        rather than no content: litellm leaves out a ``None`` content, and llama.cpp's
        function-calling chat templates fail on a message without one (HTTP 500).
        """
        return result.assistant_message("" if self.settings.api_base else None)

    def tool_result_message(self, call_id: str, tool_name: str, content: str) -> dict[str, Any]:
        """A tool's result as the next request carries it: a ``tool`` message, or with
        ``tool_results_as_user`` a ``user`` message naming the tool (for chat templates, such as
        llama.cpp's ``chatml-function-calling``, that drop ``tool`` messages)."""
        if self.settings.tool_results_as_user:
            return {"role": "user", "content": f"Result of {tool_name} (call {call_id}): {content}"}
        return {"role": "tool", "tool_call_id": call_id, "content": content}

    def secrets(self) -> tuple[str, ...]:
        return (self.api_key,) if self.api_key and self.api_key != PLACEHOLDER_API_KEY else ()

    def redact(self, text: str) -> str:
        """``text`` without the API key or any secret-looking value."""
        return self._redactor(text)

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], deadline: float) -> ChatResult:
        """One chat completion with retries; raises ModelAuthError, ModelCallError or Cancelled."""
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ModelCallError("task time ran out before the model answered", "timeout", attempt - 1, True)
            try:
                response = self._litellm.completion(
                    model=self.settings.model,
                    messages=messages,
                    tools=tools or None,
                    # "auto" is OpenAI's default, but some servers (llama.cpp's function-calling
                    # chat formats) leave the tools out of the prompt unless it is sent.
                    tool_choice="auto" if tools else None,
                    api_base=self.settings.api_base,
                    api_key=self.api_key,
                    timeout=min(self.settings.request_timeout_s, remaining),
                    max_retries=0,
                    num_retries=0,
                    drop_params=True,
                    **self.params,
                )
                return self._result(response, attempt)
            except Exception as error:
                delay = self._handle_failure(error, attempt, deadline)
            if self.cancel.wait(delay):
                raise Cancelled("run stopping")

    def _handle_failure(self, error: Exception, attempt: int, deadline: float) -> float:
        """Raise for a final failure; return the backoff before the next attempt."""
        status = getattr(error, "status_code", None)
        text = self.redact(f"{type(error).__name__}: {error}")
        error_type = type(error).__name__
        if status in FATAL_STATUS:
            hint = "check --api-key-env and the key" if status in (401, 403) else "check --model and --api-base"
            raise ModelAuthError(
                f"model {self.settings.model}: HTTP {status}, the run stops ({hint}): {text}"
            ) from None
        timed_out = isinstance(error, self._litellm.Timeout)
        retryable = (
            timed_out
            or isinstance(error, self._litellm.APIConnectionError)
            or status == 429
            or (isinstance(status, int) and status >= 500)
        )
        if not retryable or attempt > self.settings.retries:
            raise ModelCallError(text, error_type, attempt, timed_out and time.monotonic() >= deadline) from None
        delay = _retry_after(error) or min(MAX_BACKOFF_S, self.settings.retry_backoff_s * 2 ** (attempt - 1))
        delay *= 1 + random.uniform(0, 0.25)
        if time.monotonic() + delay >= deadline:
            raise ModelCallError(f"task time runs out before retry: {text}", error_type, attempt, True) from None
        logger.info("%s (attempt %d), retrying in %.2f s", text, attempt, delay)
        return delay

    def _result(self, response: Any, attempts: int) -> ChatResult:
        choice = response.choices[0]
        message = choice.message
        calls = tuple(
            ToolCallRequest(
                id=c.id or f"call_{uuid.uuid4().hex[:12]}",
                name=(c.function.name or "").strip(),
                arguments=c.function.arguments or "",
            )
            for c in (message.tool_calls or [])
        )
        hidden = getattr(response, "_hidden_params", None) or {}
        if self.server_address is None:
            self._learn_server(hidden)
        usage = getattr(response, "usage", None)
        input_tokens = getattr(usage, "prompt_tokens", None)
        output_tokens = getattr(usage, "completion_tokens", None)
        return ChatResult(
            content=message.content,
            tool_calls=calls,
            response_model=getattr(response, "model", None),
            response_id=getattr(response, "id", None),
            finish_reasons=tuple(c.finish_reason for c in response.choices if c.finish_reason),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=self._response_cost(hidden, input_tokens, output_tokens),
            attempts=attempts,
        )

    def _learn_server(self, hidden: dict[str, Any]) -> None:
        """Without --api-base, take ``server.address`` from the endpoint litellm used."""
        base = hidden.get("api_base")
        if isinstance(base, str) and base.startswith(("http://", "https://")):
            parsed = urlparse(base)
            self.server_address, self.server_port = parsed.hostname, parsed.port

    def _response_cost(
        self, hidden: dict[str, Any], input_tokens: int | None, output_tokens: int | None
    ) -> float | None:
        """litellm prices each response from the same offline map; compute it only when it did not."""
        cost = hidden.get("response_cost")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            return float(cost)
        return self.cost(input_tokens, output_tokens)

    def cost(self, input_tokens: int | None, output_tokens: int | None) -> float | None:
        """USD from litellm's offline price map; None for a model the map does not know."""
        if input_tokens is None or output_tokens is None or self._cost_known is False:
            return None
        try:
            prompt_cost, completion_cost = self._litellm.cost_per_token(
                model=self.model_name,
                custom_llm_provider=self.provider,
                prompt_tokens=input_tokens,
                completion_tokens=output_tokens,
            )
        except Exception:  # litellm raises for models missing from the map
            if self._cost_known is None:
                logger.info("no price for %s in litellm's price map: no cost recorded", self.settings.model)
            self._cost_known = False
            return None
        self._cost_known = True
        return float(prompt_cost) + float(completion_cost)


def _provider_key_in_env(provider: str) -> bool:
    return bool(os.environ.get(f"{provider.upper()}_API_KEY"))


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None
