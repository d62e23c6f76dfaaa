"""SQL of the API keys table (migration 6). Only hashes are stored (auth/keys.py)."""

from __future__ import annotations

from typing import Any

from tracepond.model.keys import KeyRecord

_COLUMNS = "id, name, project, scope, secret_hash, created_ns, expires_ns, revoked_ns"
SELECT_KEYS = f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_ns, id"
INSERT_KEY = f"INSERT INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
# Revoking twice keeps the first time; answers the id when the key exists.
REVOKE_KEY = "UPDATE api_keys SET revoked_ns = coalesce(revoked_ns, ?) WHERE id = ? RETURNING id"


def record(row: tuple[Any, ...]) -> KeyRecord:
    return KeyRecord(*row)


def insert_params(key: KeyRecord) -> list[Any]:
    return [
        key.id,
        key.name,
        key.project,
        key.scope,
        key.secret_hash,
        key.created_ns,
        key.expires_ns,
        key.revoked_ns,
    ]
