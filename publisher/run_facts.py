"""What a run's ``smoltrace.run`` spans say about the run, when there are several of them.

One run id can have several run spans: each ``smoltrace run --resume`` adds one (an
attempt that re-runs the tasks that did not finish), and each shard of a run split over
machines (``--shard I/N``) has its own. Rules (also in docs/publisher.md):

* The spans are grouped by ``smoltrace.run.shard`` (spans without one form one group).
  Within a group the spans are attempts at the same tasks; the one that ended last
  speaks for the group.
* Planned tasks: per group, the largest ``smoltrace.run.planned_tasks`` of its attempts
  (a resume may plan only the tasks left over); the run's figure is the sum over groups
  (shards split the task set). ``None`` when no span says.
* Status: ``failed`` if the latest attempt of any group failed, else ``interrupted`` if
  one was interrupted, else the latest attempt's status. The error status code is taken
  the same way (from the latest attempt of each group).
* Missing shards: shards ``I/N`` announced by a label but with no span (fewer than
  ``N`` distinct shards seen).
* Window: the first start to the last end over all run spans; :func:`attempt_windows`
  gives the periods the attempts actually ran (overlapping ones merged).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from publisher.leaderboard import STATUS_ERROR, RunFacts
from smoltrace_otel import attributes as A


@dataclass
class RunSpan:
    """The facts of one ``smoltrace.run`` span."""

    start: int
    end: int
    status_code: int
    attributes: Mapping[str, Any]
    trace_id: str | None = None
    span_id: str | None = None


def _planned(span: RunSpan) -> int | None:
    value = span.attributes.get(A.RUN_PLANNED_TASKS)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _shard(span: RunSpan) -> str | None:
    value = span.attributes.get(A.RUN_SHARD)
    return None if value is None else str(value)


def _ended(span: RunSpan) -> tuple[int, int]:
    return (span.end, span.start)


def _groups(spans: Sequence[RunSpan]) -> dict[str | None, list[RunSpan]]:
    """Run spans by shard label, each group in the order its attempts ended."""
    groups: dict[str | None, list[RunSpan]] = {}
    for span in sorted(spans, key=_ended):
        groups.setdefault(_shard(span), []).append(span)
    return groups


def latest(spans: Sequence[RunSpan]) -> RunSpan | None:
    """The run span that ended last (its attributes describe the run: model, dataset...)."""
    return max(spans, key=_ended) if spans else None


def planned_tasks(spans: Sequence[RunSpan]) -> int | None:
    """Tasks the run planned: per shard the largest figure of its attempts, summed over shards."""
    per_group = [[p for p in map(_planned, group) if p is not None] for group in _groups(spans).values()]
    known = [max(values) for values in per_group if values]
    return sum(known) if known else None


def missing_shards(spans: Sequence[RunSpan]) -> int:
    """How many shards ``I/N`` the labels announce but no run span came from."""
    seen: set[int] = set()
    counts: set[int] = set()
    for label in filter(None, (_shard(s) for s in spans)):
        index, _, count = label.partition("/")
        if index.isdigit() and count.isdigit():
            seen.add(int(index))
            counts.add(int(count))
    return max(0, max(counts) - len(seen)) if counts else 0


def attempt_windows(spans: Sequence[RunSpan]) -> list[tuple[int, int]]:
    """The periods the run's attempts ran (start..end of each run span), overlapping ones merged."""
    merged: list[tuple[int, int]] = []
    for span in sorted((s for s in spans if s.start and s.end), key=lambda s: s.start):
        if merged and span.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span.end))
        else:
            merged.append((span.start, span.end))
    return merged


def run_facts(spans: Sequence[RunSpan], *, start_unix_nano: int | None = None, notes: str | None = None) -> RunFacts:
    """The :class:`RunFacts` of a run from all its run spans (see the module docstring for the rules)."""
    if not spans:
        return RunFacts(span_present=False, start_unix_nano=start_unix_nano, notes=notes)
    finals = [group[-1] for group in _groups(spans).values()]
    statuses = [str(s.attributes.get(A.RUN_STATUS)) for s in finals if s.attributes.get(A.RUN_STATUS) is not None]
    status = next((word for word in ("failed", "interrupted") if word in statuses), None)
    newest = max(finals, key=_ended)
    if status is None:
        value = newest.attributes.get(A.RUN_STATUS)
        status = None if value is None else str(value)
    revision = newest.attributes.get(A.RUN_DATASET_REVISION)
    return RunFacts(
        span_present=True,
        status=status,
        span_status_code=STATUS_ERROR if any(s.status_code == STATUS_ERROR for s in finals) else newest.status_code,
        planned_tasks=planned_tasks(spans),
        start_unix_nano=start_unix_nano or min((s.start for s in spans if s.start), default=None),
        dataset_revision=None if revision is None else str(revision),
        notes=notes,
        missing_shards=missing_shards(spans),
    )
