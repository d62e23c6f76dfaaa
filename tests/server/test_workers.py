"""Decode workers never outlive the server, however it ends."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
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


def decode_workers(server_pid: int) -> list[int]:
    return [pid for pid in descendants(server_pid) if "spawn_main" in cmdline(pid)]


def busy_workers(server: Any, count: int = 2) -> list[int]:
    """Posts concurrent requests until ``count`` decode workers run (the pool starts them one at a
    time, as requests overlap); returns their pids."""
    body = make_request([make_span(trace_id(), span_id()) for _ in range(200)]).SerializeToString()
    deadline = time.monotonic() + 15
    with ThreadPoolExecutor(4) as pool:
        while len(workers := decode_workers(server.pid)) < count:
            assert time.monotonic() < deadline, f"only {len(workers)} decode worker(s) started"
            statuses = list(pool.map(lambda _: server.post_otlp(body).status_code, range(8)))
            assert statuses == [200] * 8
    return workers


def settled_priorities(workers: list[int], expected: int, seconds: float = 10.0) -> list[int]:
    """The workers' priorities once all are ``expected`` or the deadline passed: a worker just
    started still has the server's priority until its initializer runs."""
    deadline = time.monotonic() + seconds
    while True:
        priorities = [os.getpriority(os.PRIO_PROCESS, pid) for pid in workers]
        if all(p == expected for p in priorities) or time.monotonic() > deadline:
            return priorities
        time.sleep(0.05)


def test_decode_workers_run_below_the_server_priority(start_tracepond: Any) -> None:
    # The writer thread must not wait for the CPU behind decoding (settings.decode_worker_nice).
    server = start_tracepond("--decode-workers", "2")
    own = os.getpriority(os.PRIO_PROCESS, server.pid)
    expected = min(19, own + 10)
    assert settled_priorities(busy_workers(server), expected) == [expected, expected]
    assert os.getpriority(os.PRIO_PROCESS, server.pid) == own  # the server itself is untouched


def test_decode_worker_nice_is_configurable(start_tracepond: Any) -> None:
    server = start_tracepond("--decode-workers", "2", env={"TRACEPOND_DECODE_WORKER_NICE": "3"})
    expected = min(19, os.getpriority(os.PRIO_PROCESS, server.pid) + 3)
    assert settled_priorities(busy_workers(server), expected) == [expected, expected]
