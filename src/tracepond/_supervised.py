"""For a server that another process started and owns (``tracepond.launch()``): report the
bound ports in a file once ready, and stop when that process ends, however it ends."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tracepond._version import __version__

if TYPE_CHECKING:
    from tracepond.server import TracepondServer

PARENT_POLL_SECONDS = 0.25


def write_ready_file(path: Path, server: TracepondServer) -> None:
    """The ready line as a JSON file, written whole or not at all (the reader polls for it)."""
    host = server.settings.host
    info = {
        "pid": os.getpid(),
        "grpc": f"{host}:{server.grpc_port}",
        "http": f"{host}:{server.http_port}",
        "url": f"{server.http_url}/",
        "db": server.settings.store.display,
        "version": __version__,
    }
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(info))
    os.replace(partial, path)


def check_parent(pid: int) -> str | None:
    """Why `--parent-pid pid` cannot be watched, or None."""
    if os.name != "posix":
        return "--parent-pid needs a POSIX system"
    if os.getppid() != pid:
        return f"--parent-pid {pid} is not this process's parent (that is {os.getppid()})"
    return None


def stop_with_parent(pid: int) -> None:
    """SIGTERM this process (the server's clean shutdown) once process `pid`, its parent, ends.

    An orphan is adopted by another process, so its parent id changes: that covers a parent
    that was killed (SIGKILL included), which could not have stopped the server itself."""

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(PARENT_POLL_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
