"""An API key as stored: the record the key store keeps and authentication reads
(``auth/keys.py`` makes and checks keys)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyRecord:
    """One stored key. Times are Unix nanoseconds; ``secret_hash`` is hex SHA-256."""

    id: str
    name: str
    project: str | None
    scope: str
    secret_hash: str
    created_ns: int
    expires_ns: int | None = None
    revoked_ns: int | None = None

    def usable(self, now_ns: int) -> bool:
        if self.revoked_ns is not None:
            return False
        return self.expires_ns is None or now_ns < self.expires_ns
