"""``tracepond serve`` prints one start line with the ports, the database and the version; with
``--log-json`` (or TRACEPOND_LOG_JSON=1) that line and every log line are JSON objects."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx

from conftest import STOP_TIMEOUT, clean_env, tracepond_command
from tracepond._version import __version__


def run_json_server(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> None:
    db = tmp_path / "logs.duckdb"
    stderr_path = tmp_path / "stderr.log"
    command = tracepond_command(
        "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--db", str(db), *flags
    )
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=clean_env(env),
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        ready = json.loads(first)
        assert ready["msg"] == "tracepond ready"
        assert ready["level"] == "INFO"
        assert ready["version"] == __version__
        assert ready["db"] == str(db)
        assert ready["grpc"].startswith("127.0.0.1:") and ready["http"].startswith("127.0.0.1:")
        assert int(ready["grpc"].rsplit(":", 1)[1]) > 0
        assert int(ready["http"].rsplit(":", 1)[1]) > 0
        response = httpx.get(f"http://{ready['http']}/readyz", timeout=30)
        assert response.status_code == 200
    finally:
        process.terminate()
        assert process.wait(STOP_TIMEOUT) == 0
    lines = [line for line in stderr_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every stderr line is one JSON object
    assert any(r["msg"] == "tracepond stopped; database closed" for r in records)
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)


def test_log_json_flag(tmp_path: Path) -> None:
    run_json_server(tmp_path, "--log-json")


def test_log_json_env(tmp_path: Path) -> None:
    run_json_server(tmp_path, env={"TRACEPOND_LOG_JSON": "1"})


def test_plain_start_line(start_tracepond: object) -> None:
    server = start_tracepond()  # type: ignore[operator]
    # conftest's READY pattern matched it: ports, database and version on one line.
    ready = [line for line in server.stdout_lines if line.startswith("tracepond ready ")]
    assert len(ready) == 1
    assert f"db={server.db_path}" in ready[0] and f"version={__version__}" in ready[0]
