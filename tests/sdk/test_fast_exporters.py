"""tracepond's OTLP exporters send, over HTTP and gRPC, the bytes OTel's exporters send."""

from __future__ import annotations

import gzip
import http.server
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as OtelGrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as OtelHttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from tracepond.sdk import _exporters, _otlp
from tracepond.sdk._config import Settings
from tracepond.sdk._exporters import FastHttpSpanExporter, build_exporter
from tracepond.sdk._grpc import FastGrpcSpanExporter


def sample_spans() -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "exporters"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("exporters", "1.0")
    with tracer.start_as_current_span("root", attributes={"input": '{"q": "wörld"}'}) as root:
        root.add_event("thinking", {"step": 1})
        with tracer.start_as_current_span("child") as child:
            child.set_status(Status(StatusCode.ERROR, "bad"))
    return list(memory.get_finished_spans())


class _Capture(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        type(self).bodies.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_sink() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []
    handler = type("Capture", (_Capture,), {"bodies": bodies})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", bodies
    server.shutdown()


@pytest.fixture
def grpc_sink() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    def export(request: bytes, context: Any) -> bytes:
        bodies.append(request)
        return b""  # an empty ExportTraceServiceResponse

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.method_handlers_generic_handler(
        "opentelemetry.proto.collector.trace.v1.TraceService",
        {"Export": grpc.unary_unary_rpc_method_handler(export)},  # raw bytes both ways
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", bodies
    server.stop(None)


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_http_sends_the_bytes_otel_sends(
    http_sink: tuple[str, list[bytes]], compression: Compression
) -> None:
    url, bodies = http_sink
    spans = sample_spans()
    for exporter_type in (OtelHttpExporter, FastHttpSpanExporter):
        exporter = exporter_type(endpoint=url, compression=compression)
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        exporter.shutdown()
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


def test_http_serialized_and_fallbacks(
    http_sink: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, bodies = http_sink
    spans = sample_spans()
    expected = _otlp.encode_request(spans)
    exporter = FastHttpSpanExporter(endpoint=url)
    assert exporter.supports_serialized
    assert exporter.export_serialized(expected, len(spans)) is SpanExportResult.SUCCESS

    def broken(spans: Any) -> bytes:
        raise RuntimeError("encoder bug")

    monkeypatch.setattr(_exporters, "encode_request", broken)
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # through OTel's encoder
    monkeypatch.undo()
    exporter._tracepond_otel = None  # an OTel version without the internals we use
    assert not exporter.supports_serialized
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert exporter.export(spans) is SpanExportResult.FAILURE
    exporter._tracepond_otel = _exporters._http_internals(exporter)
    assert exporter.export_serialized(expected, len(spans)) is SpanExportResult.FAILURE
    assert bodies == [expected] * 3


def test_http_drops_requests_over_the_size_limit(http_sink: tuple[str, list[bytes]]) -> None:
    url, bodies = http_sink
    exporter = FastHttpSpanExporter(endpoint=url, max_request_size=10)
    assert exporter.export(sample_spans()) is SpanExportResult.FAILURE
    assert bodies == []


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_grpc_sends_the_bytes_otel_sends(
    grpc_sink: tuple[str, list[bytes]], compression: grpc.Compression
) -> None:
    address, bodies = grpc_sink
    spans = sample_spans()
    for exporter_type in (OtelGrpcExporter, FastGrpcSpanExporter):
        exporter = exporter_type(endpoint=address, insecure=True, compression=compression)
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        exporter.shutdown()
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]


def test_grpc_serialized_and_fallbacks(
    grpc_sink: tuple[str, list[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    address, bodies = grpc_sink
    spans = sample_spans()
    expected = _otlp.encode_request(spans)
    exporter = FastGrpcSpanExporter(endpoint=address, insecure=True)
    assert exporter.export_serialized(expected, len(spans)) is SpanExportResult.SUCCESS

    def broken(spans: Any) -> bytes:
        raise RuntimeError("encoder bug")

    monkeypatch.setattr(_exporters, "encode_request", broken)
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # through OTel's encoder
    monkeypatch.undo()
    exporter._tracepond_raw = False  # no raw Export call: bytes are decoded into a message
    assert exporter.export_serialized(expected, len(spans)) is SpanExportResult.SUCCESS
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    # Reconnection re-creates OTel's stub; ours is re-installed on the new channel.
    exporter._initialize_channel_and_stub()
    assert exporter._tracepond_raw
    assert exporter.export_serialized(expected, len(spans)) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert bodies == [expected] * 5


def test_build_exporter_by_protocol() -> None:
    http = build_exporter(Settings(endpoint="http://127.0.0.1:9/v1/traces"))
    grpc_exporter = build_exporter(Settings(endpoint="http://127.0.0.1:9", protocol="grpc"))
    try:
        assert isinstance(http, FastHttpSpanExporter)
        assert isinstance(grpc_exporter, FastGrpcSpanExporter)
    finally:
        http.shutdown()
        grpc_exporter.shutdown()
