"""`tracepond.launch()`: a tracepond server for this process, so that a notebook needs no second
terminal.

The server is a child process (`python -m tracepond.cli serve`) that binds free ports itself
(port 0: no port is picked here and bound there, so no other process can take it in between)
and reports them in a ready file. It stops when `stop()` is called, at interpreter exit, and,
through `--parent-pid`, when this process dies without running either.
"""

from __future__ import annotations

import atexit
import html
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

from tracepond.errors import LaunchFailed

_SERVER_MODULES = ("duckdb", "fastapi", "grpc", "uvicorn")
_OUTPUT_LINES = 20  # of the server's output, quoted when it fails to start
_lock = threading.Lock()
_current: LocalServer | None = None
_atexit_registered = False


class LocalServer:
    """A server `launch()` started. `str(server)` and `server.url` are the web view's address;
    in Jupyter it renders as a link."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        info: dict[str, Any],
        runtime_dir: Path,
    ) -> None:
        self._process = process
        self._runtime_dir = runtime_dir
        self.pid: int = process.pid
        self.url: str = str(info["url"])
        self.http_endpoint: str = f"http://{info['http']}"
        self.grpc_endpoint: str = f"http://{info['grpc']}"
        self.db_path = Path(info["db"])
        self.log_path = runtime_dir / "server.log"

    def running(self) -> bool:
        return self._process.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """Send what was traced, stop the server cleanly (SIGTERM: it commits what it accepted),
        and delete its temporary directory, with the database if `launch()` chose it."""
        global _current
        if self.running():
            import tracepond

            tracepond.flush(timeout_millis=5_000)
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        shutil.rmtree(self._runtime_dir, ignore_errors=True)
        with _lock:
            if _current is self:
                _current = None

    def __str__(self) -> str:
        return self.url

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"<tracepond.LocalServer {self.url} db={self.db_path} ({state})>"

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return f'tracepond web view: <a href="{url}" target="_blank" rel="noopener">{url}</a>'


def launch(
    db_path: str | os.PathLike[str] | None = None,
    *,
    service_name: str | None = None,
    timeout: float = 60.0,
) -> LocalServer:
    """Start a tracepond server for this process and point `tracepond.init()` at it.

    The database is `db_path`, or a new one in a temporary directory that `stop()` deletes.
    Calling it again while the server runs returns the same server. Raises `LaunchFailed`,
    quoting the server's last output, when it does not become ready within `timeout` seconds.
    """
    global _current
    with _lock:
        if _current is not None and _current.running():
            _check_same_db(_current, db_path)
            return _current
        _register_atexit()
        server = _start(db_path, timeout)
        _current = server
    import tracepond

    tracepond.init(server.http_endpoint, service_name=service_name)
    return server


def _check_same_db(server: LocalServer, db_path: str | os.PathLike[str] | None) -> None:
    if db_path is not None and Path(db_path).expanduser().resolve() != server.db_path.resolve():
        raise LaunchFailed(
            f"a tracepond server is already running for this process, on {server.db_path}:"
            " stop() it first to use another database"
        )


def _register_atexit() -> None:
    # Registered before launch() calls init(), whose own exit handler (exporting the last
    # spans) thus runs first: handlers run last-registered first.
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_stop_at_exit)
        _atexit_registered = True


def _stop_at_exit() -> None:
    server = _current
    if server is not None:
        server.stop()


def _start(db_path: str | os.PathLike[str] | None, timeout: float) -> LocalServer:
    _require_server_modules()
    runtime_dir = Path(tempfile.mkdtemp(prefix="tracepond-"))
    db = Path(db_path).expanduser().resolve() if db_path else runtime_dir / "tracepond.duckdb"
    ready_file = runtime_dir / "ready.json"
    with (runtime_dir / "server.log").open("wb") as log:
        process = subprocess.Popen(
            _command(db, ready_file),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_child_env(),
            # Its own session: a Ctrl-C at this process's terminal must not stop the server.
            start_new_session=True,
        )
    try:
        info = _wait_until_ready(process, ready_file, runtime_dir / "server.log", timeout)
    except BaseException:
        process.kill()
        process.wait()
        shutil.rmtree(runtime_dir, ignore_errors=True)
        raise
    return LocalServer(process, info, runtime_dir)


def _command(db: Path, ready_file: Path) -> list[str]:
    command = [sys.executable, "-m", "tracepond.cli", "serve", "--host", "127.0.0.1"]
    command += ["--grpc-port", "0", "--http-port", "0", "--db", str(db)]
    command += ["--ready-file", str(ready_file), "--parent-pid", str(os.getpid())]
    if "TRACEPOND_DECODE_WORKERS" not in os.environ:
        command += ["--decode-workers", "0"]  # one process's traces need no decode workers
    return command


def _child_env() -> dict[str, str]:
    """This environment, with this process's tracepond first on the path, so that the child
    runs the same code even when it was imported from a source tree."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[1])
    paths = [package_parent, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def _require_server_modules() -> None:
    missing = [name for name in _SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise LaunchFailed(
            "tracepond.launch() runs the tracepond server, which needs"
            f" {', '.join(missing)}: pip install 'tracepond[server]'"
        )


def _wait_until_ready(
    process: subprocess.Popen[bytes], ready_file: Path, log: Path, timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LaunchFailed(
                f"the tracepond server exited (status {process.returncode}) before it was"
                f" ready; its last output:\n{_tail(log)}"
            )
        if ready_file.exists():
            info: dict[str, Any] = json.loads(ready_file.read_text())
            if _answers_ready(f"http://{info['http']}/readyz"):
                return info
        time.sleep(0.05)
    raise LaunchFailed(
        f"the tracepond server was not ready after {timeout:g} s; its last output:\n{_tail(log)}"
    )


def _answers_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _tail(log: Path) -> str:
    try:
        with log.open(errors="replace") as lines:
            last = deque(lines, maxlen=_OUTPUT_LINES)
    except OSError:
        return "(no output)"
    return "".join(last).rstrip() or "(no output)"
