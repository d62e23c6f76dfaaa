"""``tracepond keys`` on the database file (no server) and through a running server."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx

from conftest import TracepondProcess, run_cli

from .conftest import NO_LIMIT
from .keys import KEY, bearer, initial_admin_key


def keys_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli("keys", *args, env=env)


def test_keys_on_the_database_file_then_used_by_the_server(
    tmp_path: Path, start_tracepond: Callable[..., TracepondProcess]
) -> None:
    db = str(tmp_path / "tracepond.duckdb")
    created = keys_cli(
        "create", "--db", db, "--project", "default", "--scope", "read", "--name", "ci"
    )
    assert created.returncode == 0, created.stderr
    read_key = created.stdout.strip()
    assert KEY.fullmatch(read_key)
    assert read_key not in created.stderr
    doomed = keys_cli("create", "--db", db, "--project", "default", "--scope", "ingest")
    doomed_id = doomed.stdout.strip().split("_")[1]
    assert keys_cli("revoke", "--db", db, doomed_id).returncode == 0
    listed = keys_cli("list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    assert "ci" in listed.stdout and "revoked" in listed.stdout
    assert read_key.split("_")[2] not in listed.stdout  # never a secret in a list
    bad = keys_cli("create", "--db", db, "--scope", "read")  # no project: admin keys only
    assert bad.returncode == 1 and "--project" in bad.stderr

    # Keys existed, so the server prints no first admin key, and requires the ones made here.
    server = start_tracepond("--auth", "on", env=NO_LIMIT)
    assert not any(KEY.search(line) for line in server.stdout_lines)
    assert server.get("/api/traces").status_code == 401
    assert httpx.get(f"{server.url}/api/traces", headers=bearer(read_key)).status_code == 200
    revoked = doomed.stdout.strip()
    assert httpx.post(f"{server.url}/v1/traces", headers=bearer(revoked)).status_code == 401


def test_keys_through_a_running_server(
    start_tracepond: Callable[..., TracepondProcess],
) -> None:
    server = start_tracepond("--auth", "on", env=NO_LIMIT)
    admin = initial_admin_key(server)
    env = {"TRACEPOND_URL": server.url, "TRACEPOND_API_KEY": admin}
    refused = keys_cli("create", "--project", "shop", "--scope", "ingest", env=env)
    assert refused.returncode != 0 and "no project 'shop'" in refused.stderr, refused.stderr
    response = server.client.post("/api/projects", json={"name": "shop"}, headers=bearer(admin))
    assert response.status_code == 201, response.text
    created = keys_cli(
        "create", "--project", "shop", "--scope", "ingest", "--expires", "90d", env=env
    )
    assert created.returncode == 0, created.stderr
    ingest_key = created.stdout.strip()
    key_id = ingest_key.split("_")[1]
    assert "expiring" in created.stderr
    headers = {**bearer(ingest_key), "Content-Type": "application/json"}
    assert httpx.post(f"{server.url}/v1/traces", content=b"{}", headers=headers).status_code == 200

    listed = keys_cli("list", "--url", server.url, "--api-key", admin)
    assert key_id in listed.stdout and "shop" in listed.stdout, listed.stdout

    assert keys_cli("revoke", key_id, env=env).returncode == 0
    # Revoked through the server: refused at once, no wait for the periodic reload.
    assert httpx.post(f"{server.url}/v1/traces", content=b"{}", headers=headers).status_code == 401

    # A non-admin key cannot manage keys.
    read = keys_cli("create", "--project", "shop", "--scope", "read", env=env).stdout.strip()
    refused = keys_cli("list", "--url", server.url, "--api-key", read)
    assert refused.returncode == 1 and "403" in refused.stderr


def test_a_key_name_is_short_and_printable(tmp_path: Path) -> None:
    # It goes into every log line about the key: a megabyte-long or multi-line name was taken.
    db = str(tmp_path / "names.duckdb")
    for name in ("x" * 101, "two\nlines"):
        refused = keys_cli(
            "create", "--db", db, "--project", "default", "--scope", "read", "--name", name
        )
        assert refused.returncode != 0 and "at most 100 printable" in refused.stderr, refused.stderr
    fine = keys_cli("create", "--db", db, "--project", "default", "--scope", "read", "--name", "ci")
    assert fine.returncode == 0, fine.stderr
