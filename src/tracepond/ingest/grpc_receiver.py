"""OTLP/gRPC receiver: ``opentelemetry.proto.collector.trace.v1.TraceService/Export``.

The handler takes raw bytes (no generated deserializer) so that a malformed message is answered
INVALID_ARGUMENT with what was wrong, instead of gRPC's generic INTERNAL. gzip-compressed calls
are decompressed by gRPC itself; ``grpc.max_receive_message_length`` bounds the decompressed size
(RESOURCE_EXHAUSTED beyond it).

Memory: gRPC reads a whole message before the handler sees it, so the server bounds how many
calls run at once (``maximum_concurrent_rpcs``, and streams per connection, which makes clients
wait rather than fail); from the handler on, the message holds its bytes in the shared memory
budget until its spans are committed (UNAVAILABLE beyond it, which exporters retry).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import grpc

from tracepond.auth.principal import key_project
from tracepond.errors import (
    InvalidRequest,
    Overloaded,
    PayloadTooLarge,
    PortInUse,
    StorageRejected,
    StorageUnavailable,
    TracepondError,
    UnsupportedMediaType,
)
from tracepond.ingest._routing import project_choice
from tracepond.ingest.budget import MemoryBudget
from tracepond.ingest.service import IngestService, response_message
from tracepond.projects import PROJECT_HEADER

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"

log = logging.getLogger(__name__)

# By the errors.py hierarchy: the most specific class listed for an error's type wins.
_STATUS: dict[type[TracepondError], grpc.StatusCode] = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    UnsupportedMediaType: grpc.StatusCode.INVALID_ARGUMENT,
    PayloadTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    # UNAVAILABLE is the retryable code OTLP exporters back off and retry on.
    Overloaded: grpc.StatusCode.UNAVAILABLE,
    StorageUnavailable: grpc.StatusCode.UNAVAILABLE,
    StorageRejected: grpc.StatusCode.INTERNAL,
    TracepondError: grpc.StatusCode.INTERNAL,
}
# HTTP/2 streams per connection: a client past it queues its calls instead of failing them.
MAX_STREAMS_PER_CONNECTION = 4
# Calls served at once, at least: beyond the limit gRPC answers RESOURCE_EXHAUSTED (retried by
# the Python exporter; by Go's only with RetryInfo), so it must not trip on many small calls.
MIN_CONCURRENT_RPCS = 16


def max_concurrent_rpcs(max_inflight_bytes: int, max_message_bytes: int) -> int:
    """How many calls gRPC may buffer at once: their messages are read before the handler (and
    the memory budget) sees them, so up to this many times the largest message is held."""
    return max(MIN_CONCURRENT_RPCS, 4 * max_inflight_bytes // max_message_bytes)


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The gRPC status of an exception: INTERNAL for anything not raised on purpose."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return grpc.StatusCode.INTERNAL


def _metadata(context: Any, key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key and isinstance(value, str):
            return value
    return None


def forced_project(context: Any) -> str | None:
    """The project the call's API key binds its spans to (None: not bound), which overrides
    the metadata and resource attributes. The auth interceptor sets it for the call (metadata
    naming another project was refused there)."""
    project = getattr(context, "tracepond_ingest_project", None) or key_project.get()
    return project if isinstance(project, str) else None


class GrpcReceiver:
    def __init__(self, ingest: IngestService, budget: MemoryBudget) -> None:
        self._ingest = ingest
        self._budget = budget

    async def export(self, body: bytes, context: Any) -> bytes:
        try:
            with self._budget.reservation() as reservation:
                try:
                    reservation.grow(len(body))
                except Overloaded:
                    self._ingest.stats.requests[("grpc", "refused")] += 1
                    raise
                project = project_choice(
                    _metadata(context, PROJECT_HEADER), forced_project(context)
                )
                outcome = await self._ingest.export(body, "protobuf", "grpc", project)
        except TracepondError as exc:
            status, message = status_for(exc), exc.message
        except Exception as exc:
            # Never let grpc answer UNKNOWN with a Python traceback for its message.
            log.exception("OTLP/gRPC export failed")
            status, message = grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}"
        else:
            return bytes(response_message(outcome).SerializeToString())
        await context.abort(status, message)
        raise AssertionError("unreachable: abort raises")

    def handler(self) -> grpc.GenericRpcHandler:
        method = grpc.unary_unary_rpc_method_handler(self.export)
        return grpc.method_handlers_generic_handler(SERVICE, {"Export": method})


def bind_grpc_server(
    host: str,
    port: int,
    max_message_bytes: int,
    max_inflight_bytes: int,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
) -> tuple[grpc.aio.Server, int]:
    """A gRPC server bound to ``host:port`` (port 0 = any free), not started yet, and its port;
    speaking TLS only when given ``credentials``.

    Raises PortInUse when the port is taken. gRPC sets SO_REUSEPORT by default, which would let
    a second server share the port and silently split the exports between two databases."""
    server = grpc.aio.server(
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
            ("grpc.max_concurrent_streams", MAX_STREAMS_PER_CONNECTION),
            # gRPC's "overload protection" counts a stream until the handler's task is released,
            # after the client saw it end: a client keeping the limit then gets RST_STREAM
            # (REFUSED_STREAM) instead of waiting. The limit itself still holds without it.
            ("grpc.http.overload_protection", 0),
        ],
        maximum_concurrent_rpcs=max_concurrent_rpcs(max_inflight_bytes, max_message_bytes),
        interceptors=interceptors,
    )
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = (
            server.add_secure_port(address, credentials)
            if credentials is not None
            else server.add_insecure_port(address)
        )
    except RuntimeError as exc:
        raise PortInUse(_port_message("gRPC", address, "--grpc-port")) from exc
    if bound == 0:
        raise PortInUse(_port_message("gRPC", address, "--grpc-port"))
    return server, bound


def _port_message(what: str, address: str, flag: str) -> str:
    return (
        f"cannot listen for {what} on {address}: the port is in use or the address is not"
        f" available (another tracepond running?); choose another port with {flag}"
    )


async def start_grpc_server(server: grpc.aio.Server, receiver: GrpcReceiver) -> None:
    server.add_generic_rpc_handlers((receiver.handler(),))
    await server.start()
