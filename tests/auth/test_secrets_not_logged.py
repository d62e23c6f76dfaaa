"""A key's secret never reaches the server's log: not when it is created (first start, API),
used, refused, revoked, used after revocation or exchanged for a session."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from conftest import TracepondProcess

from .keys import bearer, create_key, initial_admin_key, revoke


def secret_of(key: str) -> str:
    return key.split("_")[2]


def test_no_secret_in_the_log(start_tracepond: Callable[..., TracepondProcess]) -> None:
    server = start_tracepond("--auth", "on")
    admin = initial_admin_key(server)
    made = create_key(server, admin, scope="read", project="default", name="logged")
    key = made["key"]
    secrets = [admin, key]
    assert httpx.get(f"{server.url}/api/traces", headers=bearer(key)).status_code == 200
    near_miss = key[:-1] + ("0" if key[-1] != "0" else "1")
    assert httpx.get(f"{server.url}/api/traces", headers=bearer(near_miss)).status_code == 401
    assert httpx.get(f"{server.url}/api/traces", headers={"Authorization": key}).status_code == 401
    assert httpx.post(f"{server.url}/v1/traces", headers=bearer(key)).status_code == 403
    revoke(server, admin, made["id"])
    assert httpx.get(f"{server.url}/api/traces", headers=bearer(key)).status_code == 401
    signed = httpx.post(f"{server.url}/api/session", json={"key": admin})
    assert signed.status_code == 200
    server.stop()
    log = server.stderr()
    assert "API key created" in log and "API key revoked" in log and "refused an API key" in log
    for secret in secrets:
        assert secret_of(secret) not in log
        assert secret_of(secret)[:16] not in log
    assert secret_of(near_miss)[:16] not in log
    # The first admin key went to standard output only, once.
    assert sum(admin in line for line in server.stdout_lines) == 1
