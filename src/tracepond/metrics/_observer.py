"""GenAI metric aggregation off the writer thread.

The writer thread is ingest's bottleneck: every microsecond it spends per span is throughput
lost. Aggregating a commit's GenAI metrics (a few pyarrow group-bys) took ~9% of ingest
throughput when the writer did it itself, so it hands each committed group to this thread
instead. A scrape first waits for what is handed over (``drain``), so whatever was acknowledged
before a scrape is counted in it.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

import pyarrow as pa

from tracepond.model.records import WriteResult

log = logging.getLogger(__name__)

Observe = Callable[[pa.Table, WriteResult], None]

# Committed groups waiting to be aggregated. Each holds its Arrow rows (~1 MB per 1,000 RAG
# spans), so the queue is short; when it is full the writer aggregates the group itself, which
# slows ingest down to the aggregation's pace instead of letting memory grow.
MAX_PENDING = 8


class BackgroundObserver:
    def __init__(self, observe: Observe, max_pending: int = MAX_PENDING) -> None:
        self._observe = observe
        self._max_pending = max_pending
        self._pending: deque[tuple[pa.Table, WriteResult]] = deque()
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, table: pa.Table, result: WriteResult) -> None:
        """Aggregate ``table`` soon, on the observer thread (or now, if it has fallen behind or
        is closed)."""
        with self._cond:
            queued = not self._closed and len(self._pending) < self._max_pending
            if queued:
                self._pending.append((table, result))
                self._start()
                self._cond.notify_all()
        if not queued:
            self._run(table, result)

    def drain(self, timeout: float) -> bool:
        """Wait until everything submitted so far is aggregated; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Aggregate what is pending, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="tracepond-metrics", daemon=True
            )
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                table, result = self._pending.popleft()
                self._busy = True
            try:
                self._run(table, result)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _run(self, table: pa.Table, result: WriteResult) -> None:
        try:
            self._observe(table, result)
        except Exception:
            log.exception("GenAI metrics aggregation failed; this commit is not counted")
