"""Helpers of the auth tests: a server with --auth on, its first admin key, keys made over the
API (ingest, read, another project's read, revoked, expired)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from conftest import TracepondProcess

KEY = re.compile(r"tpk_[0-9a-f]{12}_[0-9a-f]{64}")


def initial_admin_key(server: TracepondProcess) -> str:
    keys = [m.group(0) for line in server.stdout_lines if (m := KEY.search(line))]
    assert len(keys) == 1, server.stdout_lines
    return keys[0]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def create_key(server: TracepondProcess, admin: str, **fields: Any) -> dict[str, Any]:
    response = server.client.post("/api/keys", json=fields, headers=bearer(admin))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def revoke(server: TracepondProcess, admin: str, key_id: str) -> None:
    response = server.client.delete(f"/api/keys/{key_id}", headers=bearer(admin))
    assert response.status_code == 200, response.text


def unknown_key() -> str:
    return f"tpk_{secrets.token_hex(6)}_{secrets.token_hex(32)}"


@dataclass
class Keys:
    admin: str
    read: str
    ingest: str
    other_read: str
    revoked: str
    expired: str


def make_keys(server: TracepondProcess) -> Keys:
    admin = initial_admin_key(server)
    read = create_key(server, admin, scope="read", project="default", name="reader")["key"]
    ingest = create_key(server, admin, scope="ingest", project="default", name="app")["key"]
    made = server.client.post("/api/projects", json={"name": "other"}, headers=bearer(admin))
    assert made.status_code == 201, made.text
    other = create_key(server, admin, scope="read", project="other", name="other")["key"]
    gone = create_key(server, admin, scope="read", project="default", name="gone")
    revoke(server, admin, gone["id"])
    expiring = create_key(server, admin, scope="admin", name="brief", expires="1s")["key"]
    deadline = time.monotonic() + 30
    while httpx.get(f"{server.url}/api/keys", headers=bearer(expiring)).status_code != 401:
        assert time.monotonic() < deadline, "the 1s key never expired"
        time.sleep(0.2)
    return Keys(admin, read, ingest, other, gone["key"], expiring)
