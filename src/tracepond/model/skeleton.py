"""What a trace's skeleton is built from: the columns of every span without payload
(``COLUMNS``), and the span records that also carry them as one list per column
(``SpanColumns``), which a store's ``skeleton_rows`` returns and ``query/skeleton.py`` builds on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from tracepond.model.records import SPAN_HEAD_COLUMNS, SpanRecord

COLUMNS: Final = (
    *SPAN_HEAD_COLUMNS,
    "status_code",
    "category",
    "model",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
)


class _GcPause:
    """Pauses the cyclic garbage collector while bulk-building dicts and lists that hold no
    cycles: the ~100,000 dicts of a 50,000-span skeleton triggered hundreds of collections
    that found nothing to free, a third of the build's CPU (bench/README.md, issue 5). Counted,
    so that overlapping builds in several threads re-enable it only when the last one ends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0 and self._was_enabled:
                    gc.enable()


gc_paused = _GcPause()


class SpanColumns(list[SpanRecord]):
    """Span records (the store's ``skeleton_rows``) that also carry the same data as one list
    per column of ``COLUMNS``, as a columnar fetch produces it; ``build_skeleton`` reads the
    columns. (The records themselves are for other callers: a store method returning only the
    columns would save their cost, ~15% of a 50,000-span skeleton request.)"""

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        rows = zip(*(columns[name] for name in COLUMNS), strict=True)
        with gc_paused():  # a dict literal per row: ~40% faster than dict(zip(names, row))
            super().__init__(
                {
                    "span_id": span_id,
                    "parent_span_id": parent,
                    "name": name,
                    "kind": kind,
                    "service_name": service,
                    "start_ns": start,
                    "end_ns": end,
                    "status_code": status,
                    "category": category,
                    "model": model,
                    "input_tokens": tokens_in,
                    "output_tokens": tokens_out,
                    "total_tokens": tokens,
                    "cost": cost,
                }
                for (
                    span_id,
                    parent,
                    name,
                    kind,
                    service,
                    start,
                    end,
                    status,
                    category,
                    model,
                    tokens_in,
                    tokens_out,
                    tokens,
                    cost,
                ) in rows
            )
        self.columns = columns
