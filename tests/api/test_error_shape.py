"""Unexpected exceptions: answered in the one JSON error shape (TracepondError by its class,
anything else 500) on a connection that stays usable, and never gRPC's UNKNOWN.

The failures are injected into an in-process app served by the real uvicorn configuration
(the query service's methods replaced by ones that raise), so the test owns what goes wrong.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from api.test_errors import assert_error
from tracepond.deadline import Deadline
from tracepond.errors import StorageUnavailable

TRACE = "ab" * 16
WAIT = 60.0


class FailingQuery:
    """Stands in for QueryService: every trace lookup raises what the test sets."""

    def __init__(self) -> None:
        self.error: Exception = RuntimeError("boom")

    def deadline(self) -> Deadline:
        return Deadline(WAIT)

    def trace_tree(
        self, trace_id: str, deadline: Deadline | None = None, project: str = "default"
    ) -> Any:
        raise self.error

    def check_project(self, name: str) -> str:
        return name

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


@pytest.fixture
def app_server() -> Iterator[tuple[str, FailingQuery]]:
    from tracepond.api.app import create_app
    from tracepond.model.records import StoreHealth
    from tracepond.server import _Uvicorn, _uvicorn_config
    from tracepond.server_settings import ServerSettings

    query = FailingQuery()
    receiver = type("NoReceiver", (), {"handle": None})()
    healthy = lambda: StoreHealth("ok")  # noqa: E731
    app = create_app(query, receiver, lambda: True, healthy)  # type: ignore[arg-type]
    server = _Uvicorn(_uvicorn_config(app, ServerSettings(), None))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", query
    finally:
        server.should_exit = True
        thread.join(WAIT)
        sock.close()


def local_port(response: httpx.Response) -> int:
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


def test_unexpected_exception_answers_json_500_and_keeps_the_connection(
    app_server: tuple[str, FailingQuery],
) -> None:
    url, _ = app_server
    with httpx.Client(base_url=url, timeout=WAIT) as client:
        failed = client.get(f"/api/traces/{TRACE}")
        assert_error(failed, 500, "internal_error", "RuntimeError")
        assert "boom" not in failed.text  # no internals in the answer
        after = client.get("/healthz")
        assert after.status_code == 200
        assert local_port(after) == local_port(failed), "the failed request broke its connection"


def test_tracepond_errors_keep_their_class_status(app_server: tuple[str, FailingQuery]) -> None:
    url, query = app_server
    query.error = StorageUnavailable("database is closing")
    with httpx.Client(base_url=url, timeout=WAIT) as client:
        response = client.get(f"/api/traces/{TRACE}")
        assert_error(response, 503, "storage_unavailable", "closing")
        assert response.headers["retry-after"] == "1"


class FailingIngest:
    def __init__(self) -> None:
        from tracepond.ingest.service import IngestStats

        self.stats = IngestStats()

    async def export(self, body: bytes, encoding: str, transport: str) -> Any:
        raise KeyError("unexpected")


def test_grpc_unexpected_exception_is_internal_not_unknown() -> None:
    from tracepond.ingest.budget import MemoryBudget
    from tracepond.ingest.grpc_receiver import (
        GrpcReceiver,
        bind_grpc_server,
        start_grpc_server,
    )

    async def call() -> grpc.StatusCode:
        server, port = bind_grpc_server("127.0.0.1", 0, 1024 * 1024, 1024 * 1024)
        receiver = GrpcReceiver(FailingIngest(), MemoryBudget(1024 * 1024))  # type: ignore[arg-type]
        await start_grpc_server(server, receiver)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                export = channel.unary_unary(
                    "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                )
                try:
                    await export(b"", timeout=WAIT)
                except grpc.aio.AioRpcError as error:
                    assert "Traceback" not in (error.details() or "")
                    return error.code()
                raise AssertionError("the call succeeded")
        finally:
            await server.stop(None)

    assert asyncio.run(call()) == grpc.StatusCode.INTERNAL
