"""OTLP/gRPC exporter with tracepond's encoder (needs the `grpc` extra; imported on demand)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from tracepond.sdk._delivery import grpc_failure
from tracepond.sdk._exporters import encode_or_none

_EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def _serialize(request: bytes | ExportTraceServiceRequest) -> bytes:
    """Request serializer of our Export call: our bytes as they are, OTel's message encoded."""
    return request if isinstance(request, bytes) else request.SerializeToString()


class FastGrpcSpanExporter(GrpcSpanExporter):
    """OTel's OTLP/gRPC exporter (channel, retries, reconnection, metrics stay OTel's); the
    request it sends is encoded by tracepond. The stub's Export call is re-created on the same
    channel with a serializer that passes pre-encoded bytes through."""

    _tracepond_raw = False
    last_failure: str | None = None  # why the last export failed, in words
    _last_error: grpc.RpcError | None = None  # of the last Export call (OTel keeps it to itself)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tracepond_wrap()

    def _initialize_channel_and_stub(self) -> None:  # OTel re-creates the stub on reconnect
        super()._initialize_channel_and_stub()  # type: ignore[no-untyped-call]
        self._tracepond_wrap()

    def _tracepond_wrap(self) -> None:
        channel = getattr(self, "_channel", None)
        client = getattr(self, "_client", None)
        if channel is None or client is None:
            self._tracepond_raw = False
            return
        client.Export = _Recorded(
            self,
            channel.unary_unary(
                _EXPORT_METHOD,
                request_serializer=_serialize,
                response_deserializer=ExportTraceServiceResponse.FromString,
            ),
        )
        self._tracepond_raw = True

    supports_serialized = True

    def export_serialized(self, body: bytes, span_count: int) -> SpanExportResult:
        """Send an ExportTraceServiceRequest already serialized (by `_otlp`)."""
        self._last_error = None
        result: SpanExportResult = self._export(_Serialized(body, span_count))  # type: ignore[arg-type]
        if result is not SpanExportResult.SUCCESS:
            self.last_failure = self._describe(self._last_error)
        return result

    def _describe(self, error: grpc.RpcError | None) -> str:
        if self._shutdown:
            return "tracepond's exporter was shut down (tracepond.shutdown())"
        code = getattr(error, "code", None)
        details = getattr(error, "details", None)
        return grpc_failure(
            self._endpoint,
            code().name if callable(code) else None,
            details() if callable(details) else None,
        )

    def _count_data(self, data: Sequence[ReadableSpan]) -> int:
        return data.span_count if isinstance(data, _Serialized) else len(data)

    def _translate_data(  # type: ignore[override]
        self, data: Sequence[ReadableSpan]
    ) -> bytes | ExportTraceServiceRequest:
        if isinstance(data, _Serialized):
            if self._tracepond_raw:
                return data.body
            request: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(data.body)
            return request
        if self._tracepond_raw:
            serialized = encode_or_none(data)
            if serialized is not None:
                return serialized
        return super()._translate_data(data)


class _Recorded:
    """The stub's Export call, keeping the error of a failed call on the exporter."""

    __slots__ = ("_call", "_exporter")

    def __init__(self, exporter: FastGrpcSpanExporter, call: Any) -> None:
        self._exporter = exporter
        self._call = call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._call(*args, **kwargs)
        except grpc.RpcError as error:
            self._exporter._last_error = error
            raise


class _Serialized:
    """A request body encoded ahead of time, passed through OTel's `_export` (with retries)."""

    __slots__ = ("body", "span_count")

    def __init__(self, body: bytes, span_count: int) -> None:
        self.body = body
        self.span_count = span_count
