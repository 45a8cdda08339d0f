"""Span deduplication: retried exports can write the same span twice; the first copy wins.

Spans are identified by (traceId, spanId). The key is kept as one integer (the two hex
ids concatenated), about 80 bytes per span in the set. A span exported without ids
cannot be identified and is always kept (and counted).
"""

from __future__ import annotations


class SpanDeduplicator:
    def __init__(self) -> None:
        self._seen: set[int] = set()
        self.duplicates = 0
        self.without_ids = 0

    def first_time(self, trace_id: str | None, span_id: str | None) -> bool:
        """True the first time a (trace id, span id) pair is seen; always true for id-less spans."""
        if not trace_id or not span_id:
            self.without_ids += 1
            return True
        try:
            key = int(trace_id + span_id, 16)
        except ValueError:
            key = hash((trace_id, span_id))
        seen = self._seen
        if key in seen:
            self.duplicates += 1
            return False
        seen.add(key)
        return True
