"""``--auth auto``: open on loopback without keys (as before), required off loopback (the first
admin key printed once on stdout); ``--auth off`` off loopback warns on the start lines."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from conftest import TracepondProcess

from .keys import KEY, bearer, initial_admin_key


def local(server: TracepondProcess, path: str, **headers: str) -> httpx.Response:
    port = server.http.rsplit(":", 1)[1]
    return httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=30)


def test_auto_is_open_on_loopback_and_keyed_elsewhere(
    start_tracepond: Callable[..., TracepondProcess],
) -> None:
    open_server = start_tracepond()
    assert not any(KEY.search(line) for line in open_server.stdout_lines)
    assert local(open_server, "/api/traces").status_code == 200
    open_server.stop()

    keyed = start_tracepond("--host", "0.0.0.0")
    admin = initial_admin_key(keyed)
    assert local(keyed, "/api/traces").status_code == 401
    assert local(keyed, "/api/traces", **bearer(admin)).status_code == 200
    assert local(keyed, "/healthz").status_code == 200
    keyed.stop()
    # The next start finds a key: nothing new is created or printed.
    again = start_tracepond("--host", "0.0.0.0")
    assert not any(KEY.search(line) for line in again.stdout_lines)
    assert local(again, "/api/traces", **bearer(admin)).status_code == 200


def test_auth_off_off_loopback_warns(start_tracepond: Callable[..., TracepondProcess]) -> None:
    server = start_tracepond("--host", "0.0.0.0", "--auth", "off")
    deadline = time.monotonic() + 30  # the warning follows the ready line
    while not any("WARNING: --auth off" in line for line in server.stdout_lines):
        assert time.monotonic() < deadline, server.stdout_lines
        time.sleep(0.1)
    assert local(server, "/api/traces").status_code == 200
