"""API request bodies are bounded (issue 18's rule for issue 20's new routes): a 300 MB JSON
body to POST /api/projects took the server from 220 MiB to 1.1 GiB before it answered 400."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import TracepondProcess
from tracepond.api.body_limit import MAX_API_BODY_BYTES

BIG = 200 * 1024 * 1024


def _chunks(total: int, size: int = 1024 * 1024) -> Iterator[bytes]:
    yield b'{"name": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"}'


@pytest.mark.parametrize("path", ["/api/projects", "/api/traces/delete"])
def test_a_large_declared_body_is_refused_unread(
    tracepond_server: TracepondProcess, path: str
) -> None:
    before = tracepond_server.memory_hwm_kib()
    body = b'{"name": "' + b"a" * BIG + b'"}'
    response = tracepond_server.client.post(
        path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    assert tracepond_server.memory_hwm_kib() - before < 64 * 1024  # nowhere near 200 MiB
    # The server still answers.
    assert tracepond_server.client.get("/healthz").status_code == 200


def test_a_large_chunked_body_is_refused(tracepond_server: TracepondProcess) -> None:
    before = tracepond_server.memory_hwm_kib()
    response = tracepond_server.client.post(
        "/api/projects", content=_chunks(BIG), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert tracepond_server.memory_hwm_kib() - before < 64 * 1024


def test_an_ordinary_body_still_works(tracepond_server: Any) -> None:
    response = tracepond_server.client.post("/api/projects", json={"name": "body-limit"})
    assert response.status_code == 201, response.text
    assert MAX_API_BODY_BYTES >= 64 * 1024
