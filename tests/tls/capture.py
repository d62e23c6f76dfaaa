"""Tiny loopback servers that record what clients send: an HTTP one (OTLP/HTTP and the API) and
a gRPC one (the OTLP TraceService), each optionally over TLS with the test CA's certificate.
They answer what the test tells them to (success, or a refusal such as 401 / UNAUTHENTICATED)."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc

from .certs import Certs

WAIT = 60.0


@dataclass
class Seen:
    """One request: its path, query parameters and headers (names lower case)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Capture:
    url: str  # http(s)://127.0.0.1:port, or for gRPC the same with the gRPC port
    seen: list[Seen] = field(default_factory=list)
    status: int = 200  # HTTP status to answer; 401/403 answer the JSON error shape
    grpc_code: grpc.StatusCode | None = None  # gRPC: abort with this code instead of success

    def wait(self, count: int = 1) -> list[Seen]:
        deadline = time.monotonic() + WAIT
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.seen) >= count, self.seen
        return self.seen


def _handler(capture: Capture) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            parts = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            capture.seen.append(Seen(self.command, parts.path, parse_qs(parts.query), headers))
            if capture.status in (401, 403):
                body = (
                    b'{"error": {"status": %d, "code": "unauthorized", "message": "no entry"}}'
                    % capture.status
                )
                self._answer(capture.status, "application/json", body)
            elif parts.path == "/v1/traces":
                self._answer(200, "application/x-protobuf", b"")
            else:
                self._answer(
                    200,
                    "application/json",
                    b'{"traces": [], "next_cursor": null, "count": 0, "count_capped": false}',
                )

        def _answer(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _record

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def http_capture(certs: Certs | None = None) -> Iterator[Capture]:
    capture = Capture("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(capture))
    scheme = "http"
    if certs is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certs.server_cert, certs.server_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    capture.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield capture
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def grpc_capture(certs: Certs | None = None) -> Iterator[Capture]:
    capture = Capture("")

    def export(body: bytes, context: grpc.ServicerContext) -> bytes:
        headers = {key: str(value) for key, value in context.invocation_metadata()}
        capture.seen.append(Seen("POST", "Export", {}, headers))
        if capture.grpc_code is not None:
            context.abort(capture.grpc_code, "no entry")
        return b""

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    method = grpc.unary_unary_rpc_method_handler(
        export, request_deserializer=lambda b: b, response_serializer=lambda b: b
    )
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "opentelemetry.proto.collector.trace.v1.TraceService", {"Export": method}
            ),
        )
    )
    if certs is not None:
        credentials = grpc.ssl_server_credentials(
            [(certs.server_key.read_bytes(), certs.server_cert.read_bytes())]
        )
        port = server.add_secure_port("127.0.0.1:0", credentials)
        capture.url = f"https://127.0.0.1:{port}"
    else:
        port = server.add_insecure_port("127.0.0.1:0")
        capture.url = f"http://127.0.0.1:{port}"
    server.start()
    try:
        yield capture
    finally:
        server.stop(None)
