"""Slowing down repeated failed key attempts from one client address.

A token bucket per client address: each failed attempt takes a token, tokens come back at
``per_minute`` a minute up to ``per_minute``. An address without tokens is answered 429 (HTTP)
or RESOURCE_EXHAUSTED (gRPC) before its key is even looked at, until a token is back; other
addresses are not affected. The table holds at most ``max_clients`` addresses (the least
recently failing go first), so a flood of spoofed sources cannot grow memory without bound.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

MAX_CLIENTS = 10_000


class FailureLimiter:
    def __init__(self, per_minute: int, max_clients: int = MAX_CLIENTS) -> None:
        self._capacity = float(per_minute)
        self._rate = per_minute / 60.0  # tokens per second
        self._max = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _tokens(self, client: str, now: float) -> float:
        tokens, since = self._buckets.get(client, (self._capacity, now))
        return min(self._capacity, tokens + (now - since) * self._rate)

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again; None when it may try now."""
        with self._lock:
            if client not in self._buckets:
                return None
            tokens = self._tokens(client, time.monotonic())
        if tokens >= 1:
            return None
        return max(1, math.ceil((1 - tokens) / self._rate))

    def failed(self, client: str) -> None:
        with self._lock:
            now = time.monotonic()
            tokens = self._tokens(client, now)
            self._buckets[client] = (max(0.0, tokens - 1), now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
