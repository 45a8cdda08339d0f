"""An OpenAI-compatible chat completions server double with scripted answers and injectable faults.

It speaks ``POST /v1/chat/completions`` (and ``GET /v1/models``) the way OpenAI, vLLM and
llama.cpp do, so the real litellm reaches it unmodified as ``openai/<model>`` with
``api_base=<double>.api_base``. It runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 and a
free port.

Scripts are stateless per conversation: the answer to a request is chosen by the first
rule whose ``match`` text occurs in the conversation's first user message, and the turn
by how many assistant messages the request already carries. A conversation that goes
past its scripted turns repeats the last one (a model that never stops calling tools).
So tasks running in parallel each get their own script, in any order.

Use in tests::

    from tests.doubles.chat_server import answer, call, running_chat_server, text

    with running_chat_server() as server:
        server.script("What is 2+2", [call("calculator", {"expression": "2+2"}), answer("4")])
        server.script("capital", [text("Paris")])        # plain text, no tool call
        server.fail_next(429, count=1)                   # the next request gets a 429
        litellm.completion(model="openai/any", api_base=server.api_base, api_key="k", ...)
        server.requests    # every request received: path, headers, JSON body
        server.responses   # every completion returned (with its usage)

Faults: ``fail_next(status, count, message, retry_after)`` answers the next requests with an
OpenAI-style error body (a ``{api_key}`` placeholder in ``message`` is replaced by the
bearer token received, as providers that echo a key do); ``Turn.delay_s`` delays a turn and
``Turn.hang`` holds it until :meth:`ChatServerDouble.release` or shutdown;
``hold_until_concurrent(n)`` holds requests until ``n`` are in flight at once (to prove
parallelism without timing). ``max_in_flight`` records the highest concurrency seen.

Usage is deterministic: ``prompt_tokens`` is 1 + the characters of the request's messages
divided by 4, ``completion_tokens`` 1 + the characters of the answer divided by 4, unless a
turn fixes them.

Stand-alone: ``python -m tests.doubles.chat_server [--port P] [--script script.json]`` prints
its ``api_base``; a script file is ``{"response_model": ..., "rules": [{"match": ...,
"turns": [...]}], "default": [...]}`` with turns as in :meth:`Turn.from_json`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_denied",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
    503: "service_unavailable",
}


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    """A dict is sent as JSON text; a str is sent as is (to script malformed arguments)."""
    id: str | None = None


@dataclass(frozen=True)
class Turn:
    """One scripted assistant message."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    delay_s: float = 0.0
    hang: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        """``{"content": ..., "tool_calls": [{"name", "arguments", "id"}], "delay_s", "hang", ...}``."""
        calls = tuple(ToolCall(c["name"], c.get("arguments", {}), c.get("id")) for c in data.get("tool_calls", []))
        return cls(
            content=data.get("content"),
            tool_calls=calls,
            prompt_tokens=data.get("prompt_tokens"),
            completion_tokens=data.get("completion_tokens"),
            delay_s=float(data.get("delay_s", 0.0)),
            hang=bool(data.get("hang", False)),
        )


def call(name: str, arguments: dict[str, Any] | str | None = None, **turn: Any) -> Turn:
    """A turn that calls one tool."""
    return Turn(tool_calls=(ToolCall(name, {} if arguments is None else arguments),), **turn)


def answer(value: Any, **turn: Any) -> Turn:
    """A turn that calls ``final_answer`` with ``{"answer": value}``."""
    return call("final_answer", {"answer": value}, **turn)


def text(content: str, **turn: Any) -> Turn:
    """A plain-text turn without tool calls."""
    return Turn(content=content, **turn)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class _Fault:
    status: int
    message: str
    retry_after: float | None


def _message_chars(messages: Sequence[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content")
        total += len(content) if isinstance(content, str) else len(json.dumps(content or ""))
        total += len(json.dumps(message.get("tool_calls") or ""))
    return total


class ChatServerDouble:
    """A scripted OpenAI-compatible chat server on 127.0.0.1."""

    def __init__(self, response_model: str | None = None, port: int = 0) -> None:
        self.response_model = response_model
        """Model name to answer with; ``None`` echoes the requested model."""
        self.requests: list[RecordedRequest] = []
        self.responses: list[dict[str, Any]] = []
        self.max_in_flight = 0
        self._rules: list[tuple[str, list[Turn]]] = []
        self._default: list[Turn] = [answer("ok")]
        self._faults: list[_Fault] = []
        self._in_flight = 0
        self._hold_until = 0
        self._hold_timeout_s = 5.0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="chat-server-double", daemon=True
        )

    # --- lifecycle -------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ChatServerDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    # --- scripting -------------------------------------------------------------------
    def script(self, match: str, turns: Sequence[Turn]) -> None:
        """Conversations whose first user message contains ``match`` get ``turns`` in order."""
        if not turns:
            raise ValueError("a script needs at least one turn")
        with self._lock:
            self._rules.append((match, list(turns)))

    def set_default(self, turns: Sequence[Turn]) -> None:
        """Turns for conversations no rule matches (default: ``final_answer("ok")``)."""
        with self._lock:
            self._default = list(turns)

    def fail_next(
        self, status: int, count: int = 1, message: str | None = None, retry_after: float | None = None
    ) -> None:
        """Answer the next ``count`` requests with HTTP ``status`` and an OpenAI error body."""
        text_ = message or f"chat server double: injected {status}"
        with self._lock:
            self._faults.extend(_Fault(status, text_, retry_after) for _ in range(count))

    def hold_until_concurrent(self, count: int, timeout_s: float = 5.0) -> None:
        """Hold requests until ``count`` are in flight at once (or ``timeout_s`` passes); then let all through."""
        with self._lock:
            self._hold_until = count
            self._hold_timeout_s = timeout_s

    def release(self) -> None:
        """Let every hanging turn finish now."""
        self._released.set()
        with self._changed:
            self._hold_until = 0
            self._changed.notify_all()

    def wait_for_requests(self, count: int, timeout_s: float = 30.0) -> bool:
        """Block until at least ``count`` requests have arrived."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= count, timeout_s)

    def usage_totals(self) -> tuple[int, int]:
        """(prompt_tokens, completion_tokens) summed over every completion returned."""
        with self._lock:
            usages = [r["usage"] for r in self.responses]
        return sum(u["prompt_tokens"] for u in usages), sum(u["completion_tokens"] for u in usages)

    # --- request handling ---------------------------------------------------------------
    def _turn_for(self, messages: Sequence[dict[str, Any]]) -> Turn:
        first_user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        turn_index = sum(1 for m in messages if m.get("role") == "assistant")
        with self._lock:
            turns = next((t for match, t in self._rules if match in str(first_user)), self._default)
        return turns[min(turn_index, len(turns) - 1)]

    def _enter(self) -> None:
        with self._changed:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            self._changed.notify_all()
            if self._hold_until and self._in_flight >= self._hold_until:
                self._hold_until = 0  # the gate opens once, for good
                self._changed.notify_all()
            elif self._hold_until:
                self._changed.wait_for(lambda: not self._hold_until, self._hold_timeout_s)

    def _leave(self) -> None:
        with self._changed:
            self._in_flight -= 1

    def handle_completion(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any], dict]:
        """Status, JSON body and extra headers for one chat completion request."""
        with self._changed:
            self.requests.append(RecordedRequest("/v1/chat/completions", headers, body))
            self._changed.notify_all()
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            return self._error(fault, headers)
        messages = body.get("messages") or []
        turn = self._turn_for(messages)
        if turn.delay_s:
            self._released.wait(turn.delay_s)
        if turn.hang:
            self._released.wait()
        return 200, self._completion(body, messages, turn), {}

    def _error(self, fault: _Fault, headers: dict[str, str]) -> tuple[int, dict[str, Any], dict]:
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        message = fault.message.replace("{api_key}", token)
        error_type = ERROR_TYPES.get(fault.status, "api_error")
        extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return fault.status, {"error": {"message": message, "type": error_type, "param": None, "code": None}}, extra

    def _completion(self, body: dict[str, Any], messages: Sequence[dict[str, Any]], turn: Turn) -> dict[str, Any]:
        tool_calls = [
            {
                "id": c.id or f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {
                    "name": c.name,
                    "arguments": c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments),
                },
            }
            for c in turn.tool_calls
        ]
        message: dict[str, Any] = {"role": "assistant", "content": turn.content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        answer_chars = len(turn.content or "") + len(json.dumps(tool_calls) if tool_calls else "")
        prompt_tokens = turn.prompt_tokens if turn.prompt_tokens is not None else 1 + _message_chars(messages) // 4
        completion_tokens = turn.completion_tokens if turn.completion_tokens is not None else 1 + answer_chars // 4
        response = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.response_model or body.get("model", "unknown"),
            "system_fingerprint": "fp_chat_server_double",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        with self._lock:
            self.responses.append(response)
        return response


def _handler_for(owner: ChatServerDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body are separate writes: without this, Nagle's algorithm and delayed
            # ACKs add ~40 ms to every keep-alive response (real servers set it too).
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any], headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                model = owner.response_model or "chat-server-double"
                self._send(200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "double"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError as error:
                self._send(400, {"error": {"message": f"invalid JSON: {error}", "type": "invalid_request_error"}})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            owner._enter()
            try:
                status, payload, extra = owner.handle_completion(headers, body)
            finally:
                owner._leave()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                self._send(status, payload, extra)

    return Handler


@contextmanager
def running_chat_server(response_model: str | None = None) -> Iterator[ChatServerDouble]:
    """Start a ChatServerDouble on a free loopback port; stop it afterwards."""
    server = ChatServerDouble(response_model).start()
    try:
        yield server
    finally:
        server.stop()


def load_script(server: ChatServerDouble, data: dict[str, Any]) -> None:
    """Apply a script document (the ``--script`` file format) to ``server``."""
    if "response_model" in data:
        server.response_model = data["response_model"]
    for rule in data.get("rules", []):
        server.script(rule["match"], [Turn.from_json(t) for t in rule["turns"]])
    if data.get("default"):
        server.set_default([Turn.from_json(t) for t in data["default"]])


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - manual and benchmark use
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m tests.doubles.chat_server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", type=Path, help="JSON script file (see the module docstring)")
    parser.add_argument("--response-model", default=None)
    args = parser.parse_args(argv)
    server = ChatServerDouble(args.response_model, args.port)
    if args.script:
        load_script(server, json.loads(args.script.read_text(encoding="utf-8")))
    server.start()
    print(f"chat server double: api_base={server.api_base}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
