"""Web view sessions: a read key exchanged once for a cookie.

The cookie holds a random session token, not the key; the server keeps which key it stands
for, and every request re-checks that key (a revoked or expired key ends its sessions at once).
Sessions live in this process's memory: a restart signs everyone out, which is acceptable for
a web view and keeps keys out of any cookie store. At most ``MAX_SESSIONS`` are kept.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict

COOKIE = "tracepond_session"
MAX_SESSIONS = 10_000


class Sessions:
    def __init__(self, lifetime_seconds: float) -> None:
        self.lifetime_seconds = lifetime_seconds
        # sha256(token) -> (key id, expiry, monotonic); the token itself is not kept.
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, key_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[_digest(token)] = (key_id, time.monotonic() + self.lifetime_seconds)
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return token

    def key_of(self, token: str) -> str | None:
        digest = _digest(token)
        with self._lock:
            entry = self._sessions.get(digest)
            if entry is None:
                return None
            if time.monotonic() >= entry[1]:
                del self._sessions[digest]
                return None
            return entry[0]

    def close(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(_digest(token), None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
