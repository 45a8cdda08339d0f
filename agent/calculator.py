"""Safe arithmetic: parse an expression with ``ast`` and evaluate only numbers and operators.

No ``eval``: names, attributes, subscripts, comprehensions and every call except a short
list of math functions are refused. Exponents and results are bounded so that a model
cannot make the harness compute ``9**9**9``.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable

MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 1e300

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # "2^10" means a power on a calculator
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
_REPLACEMENTS = {"×": "*", "÷": "/", "−": "-"}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or its value is out of range."""


def evaluate(expression: str) -> float | int:
    """The value of an arithmetic expression such as ``"(17 + 25) * 3 - 12 / 4"``."""
    if not isinstance(expression, str) or not expression.strip():
        raise CalculatorError("expected a non-empty arithmetic expression")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    cleaned = expression
    for old, new in _REPLACEMENTS.items():
        cleaned = cleaned.replace(old, new)
    cleaned = _THOUSANDS.sub("", cleaned)
    try:
        tree = ast.parse(cleaned.strip(), mode="eval")
    except SyntaxError:
        raise CalculatorError(f"cannot parse {expression!r} as arithmetic") from None
    return _checked(_eval(tree.body))


def _checked(value: float | int) -> float | int:
    if isinstance(value, float) and (math.isnan(value) or abs(value) > MAX_MAGNITUDE):
        raise CalculatorError("result out of range")
    if isinstance(value, int) and abs(value) > MAX_MAGNITUDE:
        raise CalculatorError("result out of range")
    return value


def _eval(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow | ast.BitXor) and abs(right) > MAX_EXPONENT:
            raise CalculatorError(f"exponent larger than {MAX_EXPONENT}")
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        if node.keywords:
            raise CalculatorError(f"{node.func.id}() takes positional arguments only")
        return _checked(_FUNCTIONS[node.func.id](*(_eval(arg) for arg in node.args)))
    raise CalculatorError(f"not allowed in an arithmetic expression: {ast.unparse(node)!r}")


def format_number(value: float | int) -> str:
    """Integers as integers, other values with up to 12 significant digits (``0.1+0.2`` is ``0.3``)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"
