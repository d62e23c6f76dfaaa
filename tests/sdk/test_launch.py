"""`tracepond.launch()` in a separate Python process, as a notebook would call it: the server it
starts receives that process's spans, and no server outlives it (stop(), a normal exit, or the
process being killed)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import tracepond
from conftest import clean_env
from tracepond.errors import LaunchFailed

SRC = str(Path(tracepond.__file__).resolve().parents[1])
pytestmark = pytest.mark.slow
WAIT = 60.0

# The notebook: launch, trace a call, report, then end as `mode` says.
NOTEBOOK = """
import json, os, signal, sys, tracepond
mode, db = sys.argv[1], sys.argv[2] or None
server = tracepond.launch(db, service_name="notebook")

@tracepond.trace
def double(x):
    return 2 * x

double(21)
print(json.dumps({
    "url": str(server), "http": server.http_endpoint, "pid": server.pid,
    "db": str(server.db_path), "html": server._repr_html_(),
    "same": tracepond.launch() is server, "flushed": tracepond.flush(10_000),
}), flush=True)
if mode == "stop":
    server.stop()
    print(json.dumps({"running": server.running(), "db_exists": os.path.exists(db)}), flush=True)
elif mode == "kill":
    sys.stdin.readline()  # the test reads the trace back meanwhile, then kills us
"""


def start_notebook(mode: str, db: Path | None = None) -> tuple[subprocess.Popen[str], Any]:
    process = subprocess.Popen(
        [sys.executable, "-c", NOTEBOOK, mode, str(db or "")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env({"PYTHONPATH": SRC}),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.kill()
        raise AssertionError(f"the notebook failed: {process.communicate()[1]}")
    return process, json.loads(line)


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for an init that does not reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def wait_until_gone(pid: int) -> bool:
    deadline = time.monotonic() + WAIT
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


def traced_call(http: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT
    while True:
        traces = httpx.get(f"{http}/api/traces", timeout=30).json()["traces"]
        if traces or time.monotonic() > deadline:
            assert len(traces) == 1, traces
            return dict(traces[0])
        time.sleep(0.1)


def test_spans_arrive_and_killing_the_notebook_stops_the_server() -> None:
    notebook, info = start_notebook("kill")
    try:
        assert info["flushed"] and info["same"]
        assert info["url"] == f"{info['http']}/"
        assert f'href="{info["url"]}"' in info["html"]
        assert alive(info["pid"])
        trace = traced_call(info["http"])
        assert trace["root_name"] == "double" and trace["service_name"] == "notebook"
        assert httpx.get(info["url"], timeout=30).status_code == 200  # the web view
    finally:
        notebook.send_signal(signal.SIGKILL)  # no atexit: the server must notice by itself
        notebook.wait(WAIT)
    assert wait_until_gone(info["pid"]), "the server outlived its killed parent"


def test_stop_stops_the_server_and_keeps_a_given_database(tmp_path: Path) -> None:
    db = tmp_path / "notebook.duckdb"
    notebook, info = start_notebook("stop", db)
    out, err = notebook.communicate(timeout=WAIT)
    assert notebook.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"running": False, "db_exists": True}
    assert info["db"] == str(db)
    assert not alive(info["pid"])


def test_interpreter_exit_stops_the_server_and_deletes_its_temporary_database() -> None:
    notebook, info = start_notebook("exit")
    _, err = notebook.communicate(timeout=WAIT)
    assert notebook.returncode == 0, err
    assert wait_until_gone(info["pid"])
    assert not Path(info["db"]).exists()
    assert not Path(info["db"]).parent.exists()


def test_a_server_that_cannot_start_is_explained(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(LaunchFailed, match=r"exited .* before it was ready; its last output:\n"):
        tracepond.launch(not_a_folder / "traces.duckdb")
    assert os.listdir(tmp_path) == ["file"]
