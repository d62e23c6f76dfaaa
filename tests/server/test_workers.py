"""Decode workers never outlive the server, however it ends."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ingest.otlp_build import make_request, make_span, span_id, trace_id


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


def loaded_pandas(pid: int) -> bool:
    return "/pandas/" in Path(f"/proc/{pid}/maps").read_text()


def test_server_and_workers_do_not_load_pandas(start_tracepond: Any) -> None:
    # pyarrow would import pandas (if installed) on its first conversion: ~45 MiB per process.
    server = start_tracepond("--decode-workers", "1")
    started = time.monotonic()
    while time.monotonic() - started < 4:  # past the workers' warm-up: they decode too
        body = make_request([make_span(trace_id(), span_id())]).SerializeToString()
        assert server.post_otlp(body).status_code == 200
        time.sleep(0.1)
    workers = [pid for pid in descendants(server.pid) if "spawn_main" in cmdline(pid)]
    assert workers
    assert not loaded_pandas(server.pid)
    assert not any(loaded_pandas(pid) for pid in workers)


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
