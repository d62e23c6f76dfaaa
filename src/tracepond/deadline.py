"""A read's time limit and cancel switch, engine-neutral.

The query service gives every read a ``Deadline``; the API cancels it when the client goes
away, and one watchdog thread cancels it when its time is up. A store stops its running read
when told (``SpanReader.cancellable``: DuckDB interrupts the cursor) and turns the stop into
``QueryTimeout`` or ``QueryCancelled``.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from typing import Literal

from tracepond.errors import QueryCancelled, QueryTimeout

StopReason = Literal["timeout", "disconnected"]


class Deadline:
    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.reason: StopReason | None = None
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        if seconds is not None:
            _WATCHDOG.watch(self, time.monotonic() + seconds)

    @property
    def stopped(self) -> bool:
        return self.reason is not None

    def cancel(self, reason: StopReason) -> None:
        """Stop the read: every registered callback runs once (outside the lock)."""
        with self._lock:
            if self.reason is not None:
                return
            self.reason = reason
            callbacks = list(self._callbacks.values())
            self._callbacks.clear()
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` when cancelled (now, if already); returns the unregistering call.
        Once that returns, ``callback`` is not called any more."""
        with self._lock:
            if self.reason is None:
                key = next(self._ids)
                self._callbacks[key] = callback
                return lambda: self._forget(key)
        callback()
        return lambda: None

    def _forget(self, key: int) -> None:
        with self._lock:
            self._callbacks.pop(key, None)

    def check(self) -> None:
        """Raise the error of the stop, if the read was stopped."""
        if self.reason is not None:
            raise self.error()

    def error(self) -> QueryTimeout | QueryCancelled:
        if self.reason == "disconnected":
            return QueryCancelled("the query was stopped: the client went away")
        return QueryTimeout(
            f"the query ran past the time limit ({self.seconds:g} s) and was stopped;"
            " narrow it (a time range, fewer selectors) or raise --query-timeout"
        )


class _Watchdog:
    """One daemon thread that cancels deadlines when their time is up."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline, at: float) -> None:
        with self._wake:
            heapq.heappush(self._due, (at, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tracepond-query-watchdog", daemon=True
                )
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    timeout = self._due[0][0] - time.monotonic() if self._due else None
                    self._wake.wait(timeout)
                _, _, deadline = heapq.heappop(self._due)
            deadline.cancel("timeout")


_WATCHDOG = _Watchdog()
