"""Tools the agent offers the model: OpenAI function schemas, argument checks, timed execution.

A :class:`Toolbox` holds :class:`Tool` objects; :func:`default_toolbox` has the built-in
deterministic tools (``agent/builtin_tools.py``) and ``final_answer``. A tool that may block
runs in its own daemon thread, so that one that hangs past the tool timeout is abandoned
(reported to the model as an error) without blocking the task or the process's exit. The
built-in tools are pure functions of bounded inputs (the calculator caps exponents and
magnitudes) and run in the task's thread: a thread per call costs more than they do, and
a timeout could not stop a CPU-bound function anyway.

Argument handling is lenient where a small model is sloppy and strict where it matters:
arguments arrive as JSON text; numbers given as strings are converted; a missing
required argument, an unknown argument or text that is not a JSON object is an error
returned to the model as the tool's result.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent import builtin_tools

FINAL_ANSWER = "final_answer"


class ToolArgumentError(ValueError):
    """The model called a tool with arguments that do not fit its schema."""


class ToolTimeoutError(TimeoutError):
    """The tool did not return within its timeout."""


@dataclass(frozen=True)
class Tool:
    """One function the model may call."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    """JSON Schema of the arguments (an ``object`` with ``properties`` and ``required``)."""
    function: Callable[..., Any]
    bounded: bool = False
    """True for a pure function of bounded inputs that cannot block (the built-in tools): it runs in
    the task's own thread. Any other tool runs in a daemon thread under the tool timeout."""

    def call(self, arguments: Mapping[str, Any], timeout_s: float) -> str:
        """Run the tool on checked arguments; its result as text."""
        if self.bounded:
            return _as_text(self.function(**arguments))
        return run_with_timeout(self.function, arguments, timeout_s)

    def schema(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry for this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": dict(self.parameters)},
        }

    def check_arguments(self, raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """Parse and check the model's arguments against the schema."""
        arguments = _parse_arguments(raw)
        properties: Mapping[str, Any] = self.parameters.get("properties", {})
        unknown = sorted(set(arguments) - set(properties))
        if unknown:
            raise ToolArgumentError(
                f"{self.name}: unexpected argument(s) {', '.join(unknown)}; expected {_names(properties)}"
            )
        missing = [name for name in self.parameters.get("required", []) if name not in arguments]
        if missing:
            raise ToolArgumentError(
                f"{self.name}: missing argument(s) {', '.join(missing)}; expected {_names(properties)}"
            )
        return {name: _coerce(self.name, name, value, properties[name]) for name, value in arguments.items()}


def _names(properties: Mapping[str, Any]) -> str:
    return ", ".join(properties) or "no arguments"


def _parse_arguments(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        return dict(raw)
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        raise ToolArgumentError(f"arguments are not valid JSON: {raw[:200]!r}") from None
    if not isinstance(parsed, dict):
        raise ToolArgumentError(f"arguments must be a JSON object, got {type(parsed).__name__}")
    return parsed


def _coerce(tool: str, name: str, value: Any, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "number" and (not isinstance(value, int | float) or isinstance(value, bool)):
        try:
            return float(str(value).replace(",", "").strip())
        except ValueError:
            raise ToolArgumentError(f"{tool}: argument {name} must be a number, got {value!r}") from None
    if kind == "string" and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, dict | list) else str(value)
    return value


def _string(description: str) -> dict[str, str]:
    return {"type": "string", "description": description}


def _object(properties: Mapping[str, Any], required: Iterable[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties if required is None else required),
    }


def final_answer(answer: str) -> str:
    return answer


def final_answer_text(raw: str | Mapping[str, Any] | None) -> str:
    """The answer in a ``final_answer`` call, read leniently.

    ``{"answer": ...}`` is the schema; a call with one other argument uses that argument's
    value, and arguments that are not a JSON object are taken as the answer text itself.
    Anything else (no argument, several unknown ones) is a ToolArgumentError.
    """
    try:
        arguments = _parse_arguments(raw)
    except ToolArgumentError:
        return str(raw).strip()
    if "answer" in arguments:
        value = arguments["answer"]
    elif len(arguments) == 1:
        value = next(iter(arguments.values()))
    else:
        raise ToolArgumentError(f"{FINAL_ANSWER}: expected one argument 'answer', got {_names(arguments) or 'none'}")
    return value if isinstance(value, str) else json.dumps(value)


FINAL_ANSWER_TOOL = Tool(
    FINAL_ANSWER,
    "Give the final answer to the user's question. Call this once you know the answer; it ends the task.",
    _object({"answer": _string("The final answer, as short as possible (a number, a word or a short phrase).")}),
    final_answer,
)

BUILTIN_TOOLS: tuple[Tool, ...] = (
    Tool(
        "calculator",
        "Evaluate an arithmetic expression, e.g. '(17 + 25) * 3' or 'sqrt(2) * 100'. "
        "Supports + - * / // % ** and sqrt, round, abs, min, max, floor, ceil, log, exp.",
        _object({"expression": _string("The arithmetic expression to evaluate.")}),
        builtin_tools.calculator,
        bounded=True,
    ),
    Tool(
        "convert_units",
        "Convert a value between units of length (m, km, mi, ft, in...), mass (kg, g, lb, oz), "
        "time (s, min, h, day, week), volume (l, ml, gal), speed (m/s, km/h, mph) or temperature (C, F, K).",
        _object(
            {
                "value": {"type": "number", "description": "The quantity to convert."},
                "from_unit": _string("The unit of the value, e.g. 'km'."),
                "to_unit": _string("The unit to convert to, e.g. 'mi'."),
            }
        ),
        builtin_tools.convert_units,
        bounded=True,
    ),
    Tool(
        "country_info",
        "Look up a country's capital, currency, continent and population (in millions) in a fixed table.",
        _object({"country": _string("The country's English name, e.g. 'Japan'.")}),
        builtin_tools.country_info,
        bounded=True,
    ),
    Tool(
        "get_weather",
        "Get the current weather (temperature in Celsius, condition, humidity) of a city.",
        _object({"city": _string("The city's name, e.g. 'Paris'.")}),
        builtin_tools.get_weather,
        bounded=True,
    ),
    Tool(
        "days_between",
        "Count the days from one date to another (dates as YYYY-MM-DD).",
        _object(
            {"start_date": _string("The first date, YYYY-MM-DD."), "end_date": _string("The second date, YYYY-MM-DD.")}
        ),
        builtin_tools.days_between,
        bounded=True,
    ),
)


@dataclass(frozen=True)
class Toolbox:
    """The tools of one run, by name; always includes ``final_answer``."""

    tools: Mapping[str, Tool] = field(default_factory=dict)

    @classmethod
    def of(cls, tools: Iterable[Tool]) -> Toolbox:
        by_name = {tool.name: tool for tool in tools}
        by_name.setdefault(FINAL_ANSWER, FINAL_ANSWER_TOOL)
        return cls(by_name)

    @property
    def names(self) -> list[str]:
        return list(self.tools)

    def schemas(self) -> list[dict[str, Any]]:
        return [tool.schema() for tool in self.tools.values()]

    def get(self, name: str) -> Tool | None:
        return self.tools.get(name)


def default_toolbox() -> Toolbox:
    """The built-in deterministic tools and ``final_answer``."""
    return Toolbox.of(BUILTIN_TOOLS)


def run_with_timeout(function: Callable[..., Any], arguments: Mapping[str, Any], timeout_s: float) -> str:
    """Call ``function(**arguments)`` in a daemon thread; raise what it raised, or ToolTimeoutError."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = function(**arguments)
        except Exception as error:  # handed to the caller's thread below
            outcome["error"] = error
        except BaseException as error:  # SystemExit and the like must not escape a tool
            outcome["error"] = RuntimeError(f"tool raised {type(error).__name__}")

    thread = threading.Thread(target=target, name="tool-call", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise ToolTimeoutError(f"tool did not return within {timeout_s:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return _as_text(outcome.get("value"))


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
