"""Totals and rates over results rows, gathered in one pass (rows can come from a file, batch by batch).

Rules (also in docs/publisher.md):

* Scored tasks are the rows whose ``stop_reason`` is not ``interrupted`` (a task cut
  short by Ctrl-C or SIGTERM never finished, so it is neither a success nor a failure).
  ``total_tests``, ``successful_tests``, ``success_rate``, ``pass_at_1``, ``avg_steps``
  and ``avg_duration_ms`` are over scored tasks.
* Totals (tokens, cost, duration) are sums over all rows: tokens spent on an
  interrupted task were still spent. A total is ``None`` when no row reported the figure.
* ``pass_at_1``: for each task id, the fraction of its scored attempts that succeeded
  (the unbiased pass@1 estimator c/n); then the mean over task ids, in percent. With one
  attempt per task it equals ``success_rate``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

COLUMNS = (
    "task_id",
    "success",
    "stop_reason",
    "steps",
    "duration_ms",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "start_time_unix_nano",
)
"""The results columns the totals read."""

_SUMMED = ("duration_ms", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd")


class ResultTotals:
    """Feed rows with :meth:`add` (or build with :meth:`of`); read the figures as attributes."""

    def __init__(self) -> None:
        self.rows = 0
        self.scored = 0
        self.successful = 0
        self.stop_reasons: Counter[str | None] = Counter()
        self._sums: dict[str, Any] = dict.fromkeys(_SUMMED)
        self._reported: Counter[str] = Counter()
        self._steps_sum = 0
        self._steps_rows = 0
        self._scored_duration = 0.0
        self._attempts: dict[Any, list[int]] = {}
        self.first_start: int | None = None

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]]) -> ResultTotals:
        totals = cls()
        for row in rows:
            totals.add(row)
        return totals

    def add(self, row: Mapping[str, Any]) -> None:
        self.rows += 1
        self.stop_reasons[row.get("stop_reason")] += 1
        start = row.get("start_time_unix_nano")
        if start and (self.first_start is None or start < self.first_start):
            self.first_start = start
        for key in _SUMMED:
            value = row.get(key)
            if value is not None:
                total = self._sums[key]
                self._sums[key] = value if total is None else total + value
                self._reported[key] += 1
        if row.get("stop_reason") == "interrupted":
            return
        self.scored += 1
        success = row.get("success") is True
        self.successful += success
        attempts = self._attempts.setdefault(row.get("task_id"), [0, 0])
        attempts[0] += success
        attempts[1] += 1
        if row.get("steps") is not None:
            self._steps_sum += row["steps"]
            self._steps_rows += 1
        self._scored_duration += row.get("duration_ms") or 0.0

    def total(self, key: str) -> Any:
        """Sum of ``key`` over all rows; ``None`` when no row reported it."""
        return self._sums[key]

    def reported(self, key: str) -> int:
        """How many rows reported ``key``."""
        return self._reported[key]

    @property
    def failed(self) -> int:
        return self.scored - self.successful

    @property
    def success_rate(self) -> float | None:
        return self.successful / self.scored * 100.0 if self.scored else None

    @property
    def pass_at_1(self) -> float | None:
        if not self._attempts:
            return None
        fractions = [c / n for c, n in self._attempts.values()]
        return sum(fractions) / len(fractions) * 100.0

    @property
    def avg_steps(self) -> float | None:
        return self._steps_sum / self._steps_rows if self._steps_rows else None

    @property
    def avg_duration_ms(self) -> float | None:
        return self._scored_duration / self.scored if self.scored else None

    def average(self, key: str) -> float | None:
        """``total(key)`` over the rows that reported it."""
        total = self._sums[key]
        return total / self._reported[key] if total is not None and self._reported[key] else None
