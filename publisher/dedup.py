"""Span deduplication: a retried export can write the same spans twice; the first copy wins.

Spans are identified by (traceId, spanId), kept as a 64-bit hash of the pair (the chance
that two different spans among half a million share one is about 1e-8). Retries resend a batch within seconds to a
minute of the first attempt, so duplicates are looked for among the most recent
``WINDOW`` distinct spans: memory stays bounded (about 40 MB) whatever the size of the
export. A span exported without ids cannot be identified and is always kept (and counted).
"""

from __future__ import annotations

from collections import deque

WINDOW = 1 << 19
"""Distinct spans remembered (524,288, about 75 bytes each)."""


class SpanDeduplicator:
    def __init__(self, window: int = WINDOW) -> None:
        self._seen: set[int] = set()
        self._order: deque[int] = deque()
        self._window = window
        self.duplicates = 0
        self.without_ids = 0

    def first_time(self, trace_id: str | None, span_id: str | None) -> bool:
        """True the first time a (trace id, span id) pair is seen; always true for id-less spans."""
        if not trace_id or not span_id:
            self.without_ids += 1
            return True
        key = hash((trace_id, span_id))
        seen = self._seen
        if key in seen:
            self.duplicates += 1
            return False
        seen.add(key)
        order = self._order
        order.append(key)
        if len(order) > self._window:
            seen.discard(order.popleft())
        return True
