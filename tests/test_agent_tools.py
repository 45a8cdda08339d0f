"""The built-in tools: safe arithmetic, conversions, fixed tables, argument checks, timeouts."""

from __future__ import annotations

import json
import threading

import pytest

from agent.calculator import CalculatorError, evaluate
from agent.tools import (
    ToolArgumentError,
    ToolTimeoutError,
    default_toolbox,
    final_answer_text,
    run_with_timeout,
)

TOOLBOX = default_toolbox()


def _call(name: str, arguments: dict | str) -> str:
    tool = TOOLBOX.get(name)
    assert tool is not None
    return tool.call(tool.check_arguments(arguments if isinstance(arguments, str) else json.dumps(arguments)), 5)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("234 * 67", "15678"),
        ("(17 + 25) * 3 - 12 / 4", "123"),
        ("2^10", "1024"),
        ("0.1 + 0.2", "0.3"),
        ("sqrt(2) * 100", "141.421356237"),
        ("1,000 * 3", "3000"),
        ("round(2.567, 2)", "2.57"),
        ("-(3 ** 2)", "-9"),
        ("7 // 2 + 7 % 2", "4"),
    ],
)
def test_calculator_evaluates_arithmetic(expression: str, value: str) -> None:
    assert _call("calculator", {"expression": expression}) == value


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "open('/etc/passwd')",
        "(1).__class__",
        "[x for x in range(3)]",
        "9**9**9",
        "a + 1",
        "",
    ],
)
def test_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(CalculatorError):
        evaluate(expression)


def test_calculator_division_by_zero_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        _call("calculator", {"expression": "1/0"})


@pytest.mark.parametrize(
    ("value", "source", "target", "result"),
    [
        (10, "km", "mi", "6.213712"),
        (100, "F", "C", "37.777778"),
        (25, "celsius", "fahrenheit", "77"),
        (5, "pounds", "kg", "2.267962"),
        (75, "km/h", "mph", "46.602839"),
        ("2", "hours", "min", "120"),
    ],
)
def test_convert_units(value: object, source: str, target: str, result: str) -> None:
    assert _call("convert_units", {"value": value, "from_unit": source, "to_unit": target}) == result


def test_convert_units_refuses_unknown_and_incompatible_units() -> None:
    with pytest.raises(ValueError, match="unknown unit 'parsec'"):
        _call("convert_units", {"value": 1, "from_unit": "parsec", "to_unit": "m"})
    with pytest.raises(ValueError, match="cannot convert km"):
        _call("convert_units", {"value": 1, "from_unit": "km", "to_unit": "kg"})


def test_lookups_are_fixed_tables() -> None:
    assert json.loads(_call("country_info", {"country": "japan"}))["capital"] == "Tokyo"
    assert json.loads(_call("get_weather", {"city": "Paris, France"}))["condition"] == "sunny"
    assert _call("days_between", {"start_date": "2024-01-01", "end_date": "2024-03-01"}) == "60"
    with pytest.raises(ValueError, match="known countries"):
        _call("country_info", {"country": "Atlantis"})


def test_arguments_are_checked_against_the_schema() -> None:
    calculator = TOOLBOX.get("calculator")
    assert calculator is not None
    with pytest.raises(ToolArgumentError, match="missing argument\\(s\\) expression"):
        calculator.check_arguments("{}")
    with pytest.raises(ToolArgumentError, match="unexpected argument\\(s\\) expr"):
        calculator.check_arguments('{"expr": "1+1"}')
    with pytest.raises(ToolArgumentError, match="not valid JSON"):
        calculator.check_arguments("1+1")
    with pytest.raises(ToolArgumentError, match="must be a number"):
        TOOLBOX.get("convert_units").check_arguments('{"value": "ten", "from_unit": "m", "to_unit": "km"}')


def test_schemas_are_openai_function_tools() -> None:
    schemas = TOOLBOX.schemas()
    names = [s["function"]["name"] for s in schemas]
    assert names[-1] == "final_answer"
    assert {"calculator", "convert_units", "country_info", "get_weather", "days_between"} <= set(names)
    for schema in schemas:
        assert schema["type"] == "function"
        assert schema["function"]["parameters"]["type"] == "object"
        assert set(schema["function"]["parameters"]["required"]) <= set(schema["function"]["parameters"]["properties"])


def test_final_answer_is_read_leniently() -> None:
    assert final_answer_text('{"answer": "Tokyo"}') == "Tokyo"
    assert final_answer_text('{"answer": 42}') == "42"
    assert final_answer_text('{"result": "Tokyo"}') == "Tokyo"
    assert final_answer_text("Tokyo") == "Tokyo"
    with pytest.raises(ToolArgumentError):
        final_answer_text('{"a": 1, "b": 2}')
    with pytest.raises(ToolArgumentError):
        final_answer_text("{}")


def test_a_hanging_tool_is_abandoned_at_its_timeout() -> None:
    release = threading.Event()
    with pytest.raises(ToolTimeoutError, match=r"0\.2 s"):
        run_with_timeout(lambda: release.wait(30), {}, 0.2)
    release.set()
