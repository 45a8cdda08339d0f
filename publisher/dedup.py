"""Span deduplication: a retried export can write the same spans twice; the first copy wins.

Spans are identified by (traceId, spanId), kept as a 64-bit hash of the pair (the chance
that two different spans among a quarter of a million share one is about 2e-9).
Retries resend a batch within seconds to a minute of the first attempt, so duplicates
are looked for among the most recent spans only: at least ``GENERATION`` and at most
twice that many. Memory stays bounded (about 16 MB) whatever the size of the export. A
span exported without ids cannot be identified and is always kept (and counted).
"""

from __future__ import annotations

GENERATION = 1 << 17
"""Spans per generation of remembered keys (131,072): two generations are kept."""


class SpanDeduplicator:
    def __init__(self, generation: int = GENERATION) -> None:
        self._current: set[int] = set()
        self._previous: set[int] = set()
        self._generation = generation
        self.duplicates = 0
        self.without_ids = 0

    def first_time(self, trace_id: str | None, span_id: str | None) -> bool:
        """True the first time a (trace id, span id) pair is seen; always true for id-less spans."""
        if not trace_id or not span_id:
            self.without_ids += 1
            return True
        key = hash((trace_id, span_id))
        current = self._current
        if key in current or key in self._previous:
            self.duplicates += 1
            return False
        current.add(key)
        if len(current) >= self._generation:
            self._previous, self._current = current, set()
        return True
