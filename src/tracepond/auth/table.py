"""The in-memory table of key hashes that every request is verified against.

Verifying a key must not cost a database read per request: the table holds every stored key
record by id, reloaded from the store after each change made through this process and every
``REFRESH_SECONDS`` (so that several processes over one database, or a key revoked with the
CLI's ``--db``, converge within seconds). Last use is kept here only, never written per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tracepond.auth.keys import hash_key, key_id, matches
from tracepond.auth.principal import Principal, Scope
from tracepond.model.keys import KeyRecord

REFRESH_SECONDS = 5.0
# Compared against when the presented id is unknown, so that unknown and wrong keys take the
# same time to refuse.
_DUMMY = KeyRecord("", "", None, "read", hash_key("tpk_unknown"), 0)

log = logging.getLogger(__name__)


class KeyTable:
    def __init__(self, load: Callable[[], list[KeyRecord]]) -> None:
        self._load = load
        self._records: dict[str, KeyRecord] = {}
        self._last_used: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.reload()

    def reload(self) -> None:
        records = {record.id: record for record in self._load()}
        with self._lock:
            self._records = records

    def start(self) -> None:
        """Reload every REFRESH_SECONDS in a background thread until ``close``."""
        self._thread = threading.Thread(target=self._refresh, name="tracepond-keys", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _refresh(self) -> None:
        while not self._stop.wait(REFRESH_SECONDS):
            try:
                self.reload()
            except Exception:  # the table in hand stays in use; the next reload may work
                log.warning("reloading the API keys failed", exc_info=True)

    def has_keys(self) -> bool:
        return bool(self._records)

    def records(self) -> list[KeyRecord]:
        with self._lock:
            return sorted(self._records.values(), key=lambda r: (r.created_ns, r.id))

    def last_used_ns(self, ident: str) -> int | None:
        return self._last_used.get(ident)

    def verify(self, key: str) -> Principal | None:
        """The principal of a usable key; None for a malformed, unknown, wrong, revoked or
        expired one (the caller says the same thing for all of them)."""
        ident = key_id(key)
        record = self._records.get(ident) if ident else None
        if not matches(key, record or _DUMMY) or record is None:
            return None
        return self.principal_of(record.id)

    def principal_of(self, ident: str) -> Principal | None:
        """The principal of key ``ident`` if it is still usable (sessions re-check their key)."""
        record = self._records.get(ident)
        now = time.time_ns()
        if record is None or not record.usable(now):
            return None
        self._last_used[ident] = now
        scope: Scope = record.scope  # type: ignore[assignment]
        return Principal(record.id, record.name, record.project, scope)
