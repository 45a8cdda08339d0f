"""Every scoring rule, in one place.

A task's outcome is the list of tools the model called, whether and how it answered,
and why its loop stopped. From it:

``tool_called``
    The model called at least one of the agent's tools other than ``final_answer``,
    whatever the call's outcome (a call with wrong arguments counts; a tool name the
    agent does not offer does not).

``correct_tool``
    * ``expected_tool_calls`` is a list of names: each name was called at least as often
      as it appears in the list (any order, other calls allowed);
    * ``expected_tool`` is ``multiple`` (or absent with an integer ``expected_tool_calls``):
      at least ``expected_tool_calls`` (default 1) tool calls of any tools;
    * ``expected_tool`` is a name: that tool was called at least ``expected_tool_calls``
      (default 1) times;
    * none of these: not scored (``None``; the attribute is left out of the span).

``final_answer_called``
    The model called ``final_answer`` with a usable answer. A plain-text reply without any
    tool call also ends the task and its text is taken as the final answer (so
    ``response_correct`` is still judged), but ``final_answer_called`` is false.

``response_correct``
    * ``expected_answer`` given (rule ``expected_answer``): when it is a number, the last
      number in the final answer equals it (within 1e-6 relative; when the expected
      value has k decimals, the answer rounded to k decimals may also equal it); when it
      is text, the normalised expected text equals the normalised answer or occurs in it
      as whole words. Normalising: Unicode NFKD without accents, lower case, no
      punctuation, no articles (a, an, the), single spaces.
    * else ``expected_keywords`` (rule ``expected_keywords``): at least one keyword occurs
      in the normalised answer (the reference tool's rule).
    * else: not scored (``None``, rule ``none``). Task validation refuses a task with no
      check at all, so such a task is scored on its tool checks only; it is never counted
      correct for want of a check.
    * no final answer at all: false.

``success``
    The loop stopped with ``stop_reason=final_answer``, ``final_answer_called`` is true,
    and neither ``correct_tool`` nor ``response_correct`` is false. Running out of steps,
    a timeout, an error or an interruption is never a success.

``stop_reason``
    ``final_answer`` (a ``final_answer`` call or a plain-text reply), ``max_steps`` (every
    step used without an answer), ``timeout`` (the task's time ran out), ``error`` (a model
    call failed after its retries, or the run was stopped by an authentication error), or
    ``interrupted`` (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.tasks import ANY_TOOL, Task

FINAL_ANSWER = "final_answer"
MAX_STEPS = "max_steps"
TIMEOUT = "timeout"
ERROR = "error"
INTERRUPTED = "interrupted"
STOP_REASONS = (FINAL_ANSWER, MAX_STEPS, TIMEOUT, ERROR, INTERRUPTED)

RULE_ANSWER = "expected_answer"
RULE_KEYWORDS = "expected_keywords"
RULE_NONE = "none"

RELATIVE_TOLERANCE = 1e-6
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+]?\.\d+")
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’«»", " "))


@dataclass(frozen=True)
class Outcome:
    """What happened in one task's loop."""

    tools_called: Sequence[str]
    """Names of the agent's tools the model called (not ``final_answer``), in order."""
    final_answer_called: bool
    final_answer: str | None
    stop_reason: str


@dataclass(frozen=True)
class Score:
    tool_called: bool
    correct_tool: bool | None
    final_answer_called: bool
    response_correct: bool | None
    success: bool
    rule: str
    explanation: str


def normalise(text: str) -> str:
    """Lower case, no accents, no punctuation, no articles, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(_ARTICLES.sub(" ", plain.translate(_PUNCTUATION)).split())


def parse_number(text: str) -> float | None:
    """``text`` as one number (``"1,234.5"``, ``"-3"``), or None."""
    candidate = text.strip().rstrip(".")
    if not _NUMBER.fullmatch(candidate):
        return None
    return float(candidate.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.strip().rstrip(".").partition(".")[2])


def answer_matches(answer: str, expected: str) -> bool:
    """The ``expected_answer`` rule (see the module docstring)."""
    expected_number = parse_number(expected)
    if expected_number is not None:
        numbers = _NUMBER.findall(answer)
        if not numbers:
            return False
        got = float(numbers[-1].replace(",", ""))
        if math.isclose(got, expected_number, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9):
            return True
        places = _decimals(expected)
        return places > 0 and math.isclose(round(got, places), expected_number, abs_tol=1e-9)
    wanted, got_text = normalise(expected), normalise(answer)
    return bool(wanted) and (wanted == got_text or f" {wanted} " in f" {got_text} ")


def keywords_match(answer: str, keywords: Sequence[str]) -> bool:
    """The ``expected_keywords`` rule: at least one keyword occurs in the answer."""
    got = normalise(answer)
    return any(normalise(k) and normalise(k) in got for k in keywords)


def correct_tool(task: Task, tools_called: Sequence[str]) -> bool | None:
    """The ``correct_tool`` rule (see the module docstring)."""
    expected_calls = task.expected_tool_calls
    if isinstance(expected_calls, tuple):
        have = Counter(tools_called)
        return all(have[name] >= count for name, count in Counter(expected_calls).items())
    needed = expected_calls or 1
    if task.expected_tool in (None, ANY_TOOL):
        return None if expected_calls is None and task.expected_tool is None else len(tools_called) >= needed
    return list(tools_called).count(task.expected_tool) >= needed


def response_correct(task: Task, final_answer: str | None) -> tuple[bool | None, str, str]:
    """(verdict, rule, explanation) of the ``response_correct`` rule."""
    if task.expected_answer is not None:
        if final_answer is None:
            return False, RULE_ANSWER, "no final answer"
        ok = answer_matches(final_answer, task.expected_answer)
        verb = "matches" if ok else "does not match"
        return ok, RULE_ANSWER, f"answer {verb} expected answer {task.expected_answer!r}"
    if task.expected_keywords:
        if final_answer is None:
            return False, RULE_KEYWORDS, "no final answer"
        ok = keywords_match(final_answer, task.expected_keywords)
        verb = "contains" if ok else "contains none of"
        return ok, RULE_KEYWORDS, f"answer {verb} the expected keywords"
    return None, RULE_NONE, "response not checked: the task gives no expected_answer or expected_keywords"


def score(task: Task, outcome: Outcome) -> Score:
    """Apply every rule to one task's outcome."""
    tool_ok = correct_tool(task, outcome.tools_called)
    response_ok, rule, explanation = response_correct(task, outcome.final_answer)
    success = (
        outcome.stop_reason == FINAL_ANSWER
        and outcome.final_answer_called
        and tool_ok is not False
        and response_ok is not False
    )
    if outcome.stop_reason != FINAL_ANSWER:
        explanation = f"stopped by {outcome.stop_reason}; {explanation}"
    elif not outcome.final_answer_called:
        explanation = f"answered in plain text, not with final_answer; {explanation}"
    if tool_ok is False:
        explanation += "; expected tool calls not made"
    return Score(
        tool_called=bool(outcome.tools_called),
        correct_tool=tool_ok,
        final_answer_called=outcome.final_answer_called,
        response_correct=response_ok,
        success=success,
        rule=rule,
        explanation=explanation,
    )
