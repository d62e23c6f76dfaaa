"""A real server whose store cannot write says so, keeps reading, and writes again by itself
once the cause is gone (issue #18): a full disk, and spans large enough to strain DuckDB's
memory at checkpoint."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id

WAIT_SECONDS = 60.0
# Longer than the writer's idle checkpoint interval (pipeline.IDLE_CHECKPOINT_SECONDS).
IDLE_SECONDS = 4.0


def body(spans: list[Any]) -> bytes:
    return make_request(spans).SerializeToString()


def post_trace(server: Any, name: str = "s") -> tuple[int, bytes, Any]:
    trace = trace_id()
    response = server.post_otlp(body([make_span(trace, span_id(), name)]))
    return response.status_code, trace, response


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MiB filesystem of its own for the database."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for the full-disk test needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(directory: Path) -> Path:
    """Fill the filesystem to the last byte."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(descriptor, b"\0" * chunk)
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_fails_writes_retryably_and_heals_by_itself(
    start_tracepond: Any, small_disk: Path
) -> None:
    server = start_tracepond("--decode-workers", "0", db_path=small_disk / "db" / "t.duckdb")
    status, stored, _ = post_trace(server, "before")
    assert status == 200
    time.sleep(IDLE_SECONDS)  # the idle checkpoint has run: nothing pending in the WAL
    filler = fill(small_disk)
    try:
        statuses = []
        for _ in range(3):
            status, _, response = post_trace(server, "while full")
            statuses.append(status)
            # Retryable, and with no span of it stored.
            assert status == 503, response.text
            assert response.headers.get("Retry-After")
        ready = server.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "storage_unavailable"
        assert "No space left" in ready.json()["error"]["message"]
        health = server.get_json("/healthz")
        assert health["status"] == "degraded" and health["store"]["state"] == "failing"
        time.sleep(IDLE_SECONDS)  # the writer tries to recover, and waits for space
        # Reads keep working from what is stored.
        assert server.trace(stored.hex())["summary"]["root_name"] == "before"
        assert [t["root_name"] for t in server.all_traces()] == ["before"]
    finally:
        filler.unlink()
    wait_until(lambda: server.get("/readyz").status_code == 200, "the store to write again")
    assert server.get_json("/healthz") == {"status": "ok"}
    status, after, _ = post_trace(server, "after")
    assert status == 200
    assert server.trace(after.hex())["summary"]["root_name"] == "after"
    assert sorted(t["root_name"] for t in server.all_traces()) == ["after", "before"]


def large_requests() -> tuple[list[bytes], bytes]:
    """A span with a 28.6 MiB array attribute of 3 kB strings, then one with 16 MiB of
    attributes: both under the 32 MiB body limit."""
    trace = trace_id()
    documents = [f"{i:06d}" + "d" * 2994 for i in range(10_000)]
    attributes = {f"k{i}": "v" * (1 << 20) for i in range(16)}
    first = body([make_span(trace, span_id(), "documents", attributes={"docs": documents})])
    second = body([make_span(trace, span_id(), "attributes", attributes=attributes)])
    return [first, second], trace


def test_two_large_spans_and_an_idle_checkpoint_leave_the_server_working(
    start_tracepond: Any,
) -> None:
    server = start_tracepond("--decode-workers", "0")
    requests, trace = large_requests()
    for request in requests:
        response = server.post_otlp(request)
        assert response.status_code == 200, response.text
    time.sleep(IDLE_SECONDS)
    assert server.get("/readyz").status_code == 200
    status, later, _ = post_trace(server, "later")
    assert status == 200
    assert server.trace(trace.hex())["summary"]["span_count"] == 2
    # A restart replays and checkpoints the same data, and goes on writing.
    server.kill()
    again = start_tracepond("--decode-workers", "0")
    time.sleep(IDLE_SECONDS)
    status, last, _ = post_trace(again, "last")
    assert status == 200
    assert again.get("/readyz").status_code == 200
    assert again.trace(trace.hex())["summary"]["span_count"] == 2
    assert again.trace(later.hex()) is not None and again.trace(last.hex()) is not None
