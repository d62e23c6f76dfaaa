"""OTLP/gRPC receiver: ``opentelemetry.proto.collector.trace.v1.TraceService/Export``.

The handler takes raw bytes (no generated deserializer) so that a malformed message is answered
INVALID_ARGUMENT with what was wrong, instead of gRPC's generic INTERNAL. gzip-compressed calls
are decompressed by gRPC itself; ``grpc.max_receive_message_length`` bounds the decompressed size
(RESOURCE_EXHAUSTED beyond it).
"""

from __future__ import annotations

from typing import Any

import grpc

from tracepond.errors import (
    InvalidRequest,
    Overloaded,
    PayloadTooLarge,
    StorageRejected,
    StorageUnavailable,
    TracepondError,
)
from tracepond.ingest.service import IngestService, response_message

SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"

_STATUS = {
    InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    PayloadTooLarge: grpc.StatusCode.RESOURCE_EXHAUSTED,
    # UNAVAILABLE is the retryable code OTLP exporters back off and retry on.
    Overloaded: grpc.StatusCode.UNAVAILABLE,
    StorageUnavailable: grpc.StatusCode.UNAVAILABLE,
    StorageRejected: grpc.StatusCode.INTERNAL,
}


class GrpcReceiver:
    def __init__(self, ingest: IngestService) -> None:
        self._ingest = ingest

    async def export(self, body: bytes, context: Any) -> bytes:
        try:
            outcome = await self._ingest.export(body, "protobuf", "grpc")
        except TracepondError as exc:
            await context.abort(_STATUS.get(type(exc), grpc.StatusCode.INTERNAL), exc.message)
            raise AssertionError("unreachable: abort raises") from exc
        return bytes(response_message(outcome).SerializeToString())

    def handler(self) -> grpc.GenericRpcHandler:
        method = grpc.unary_unary_rpc_method_handler(self.export)
        return grpc.method_handlers_generic_handler(SERVICE, {"Export": method})


async def start_grpc_server(
    receiver: GrpcReceiver, host: str, port: int, max_message_bytes: int
) -> tuple[grpc.aio.Server, int]:
    """Start the gRPC server; returns it and the port it is bound to (port 0 = any free)."""
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
        ]
    )
    server.add_generic_rpc_handlers((receiver.handler(),))
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    bound = server.add_insecure_port(address)
    if bound == 0:
        raise OSError(f"cannot bind gRPC to {address}")
    await server.start()
    return server, bound
