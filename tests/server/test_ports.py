"""A port in use fails the start: a message naming the port and the flag that changes it, a
non-zero exit, no traceback and no database files (both ports are bound before the store is
opened). gRPC's default SO_REUSEPORT would otherwise let a second server share the gRPC port."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import TracepondProcess, clean_env, tracepond_command

WAIT = 60.0


def second_server(tmp_path: Path, *ports: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    db = tmp_path / "second" / "tracepond.duckdb"
    db.parent.mkdir()
    command = tracepond_command("--host", "127.0.0.1", "--db", str(db), *ports)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=WAIT, env=clean_env(), check=False
    )
    return done, db.parent


@pytest.mark.parametrize("busy", ["grpc", "http"])
def test_a_busy_port_fails_the_start_cleanly(
    start_tracepond: object, tmp_path: Path, busy: str
) -> None:
    first: TracepondProcess = start_tracepond()  # type: ignore[operator]
    taken = (first.grpc if busy == "grpc" else first.http).rsplit(":", 1)[1]
    ports = ["--grpc-port", "0", "--http-port", "0"]
    ports[ports.index(f"--{busy}-port") + 1] = taken
    done, folder = second_server(tmp_path, *ports)
    assert done.returncode != 0, done.stdout
    assert f":{taken}" in done.stderr and f"--{busy}-port" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "tracepond ready" not in done.stdout
    assert list(folder.iterdir()) == [], "a failed start left database files"
    assert first.get("/healthz").status_code == 200
