"""Decode workers never outlive the server, however it ends."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def descendants(pid: int) -> set[int]:
    out: set[int] = set()
    stack = [pid]
    while stack:
        current = stack.pop()
        for task in Path(f"/proc/{current}/task").iterdir():
            children = (task / "children").read_text().split()
            out.update(int(child) for child in children)
            stack.extend(int(child) for child in children)
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status").read_text()
    return "State:\tZ" not in status  # a zombie is dead, only not yet reaped


def wait_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while (left := {p for p in pids if alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_workers_exit_when_the_server_is_killed(start_tracepond: Any) -> None:
    server = start_tracepond("--decode-workers", "2")
    workers = descendants(server.pid)
    assert len(workers) >= 2  # the decode workers (and multiprocessing's resource tracker)
    server.kill()
    assert wait_gone(workers) == set()


def test_workers_exit_on_a_clean_stop(start_tracepond: Any) -> None:
    server = start_tracepond("--decode-workers", "1")
    workers = descendants(server.pid)
    assert workers
    assert server.stop() == 0
    assert wait_gone(workers) == set()
