"""Build the OTLP exporter for the resolved settings (HTTP built in, gRPC with the extra).

Both are OTel's own `OTLPSpanExporter`s (endpoint, headers, TLS, compression, timeout, retries
and metrics stay theirs) with one thing swapped: the request body is written by tracepond's
encoder (`_otlp.encode_request`, several times cheaper per span than building protobuf objects)
instead of `encode_spans(...)`. Should it ever raise, that batch goes through OTel's encoder.
After a failed export, `last_failure` says why in words (`_delivery`), for `tracepond.flush()`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from typing import Any

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from tracepond.sdk._config import Settings
from tracepond.sdk._delivery import http_failure
from tracepond.sdk._otlp import encode_request

logger = logging.getLogger("tracepond")


def build_exporter(settings: Settings) -> SpanExporter:
    if settings.protocol == "grpc":
        return _grpc_exporter(settings)
    return FastHttpSpanExporter(
        endpoint=settings.endpoint,
        headers=settings.export_headers() or None,
        certificate_file=settings.ca_file,
        session=_CaFileSession() if settings.ca_file else None,
    )


class _CaFileSession(requests.Session):
    """A requests Session that keeps its own CA file. Plain requests replaces a session's
    `verify` by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE whenever either is set (requests#3829;
    Debian, Nix and many images set them to the system bundle), which would make an exporter
    told to trust a private CA fail every export with CERTIFICATE_VERIFY_FAILED."""

    def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        merged: dict[str, Any] = super().merge_environment_settings(*args, **kwargs)
        if isinstance(self.verify, str):
            merged["verify"] = self.verify
        return merged


def _grpc_exporter(settings: Settings) -> SpanExporter:
    try:
        from tracepond.sdk._grpc import FastGrpcSpanExporter
    except ImportError as exc:  # a setup mistake, reported once by init(), not per span
        raise ImportError(
            "tracepond: protocol 'grpc' needs the gRPC exporter: pip install 'tracepond[grpc]'"
        ) from exc
    endpoint = settings.endpoint
    insecure = endpoint.startswith("http://") or "://" not in endpoint
    credentials = None
    if settings.ca_file and not insecure:
        import grpc

        with open(settings.ca_file, "rb") as ca:
            credentials = grpc.ssl_channel_credentials(root_certificates=ca.read())
    return FastGrpcSpanExporter(
        endpoint=endpoint,
        insecure=insecure,
        credentials=credentials,
        headers=settings.export_headers() or None,
    )


def encode_or_none(spans: Sequence[ReadableSpan]) -> bytes | None:
    """tracepond's encoding of the batch; None (logged) when it fails, to use OTel's instead."""
    try:
        return encode_request(spans)
    except Exception:
        logger.warning(
            "tracepond: fast OTLP encoding failed, using OpenTelemetry's encoder", exc_info=True
        )
        return None


class FastHttpSpanExporter(HttpSpanExporter):
    """OTel's OTLP/HTTP exporter; only the serialization of the request body is tracepond's.

    `export` is OTel's (1.45) step for step, fed with our bytes. If this OTel version lacks the
    internals it relies on, every batch simply goes through OTel's own `export`.
    """

    last_failure: str | None = None  # why the last export failed, in words

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tracepond_otel = _http_internals(self)

    @property
    def supports_serialized(self) -> bool:
        """Whether `export_serialized` can be used (this OTel version has what it needs)."""
        return self._tracepond_otel is not None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.last_failure = None  # OTel's own export below keeps its reasons to itself
        if self._tracepond_otel is None or self._shutdown:
            return super().export(spans)
        serialized = encode_or_none(spans)
        if serialized is None:
            return super().export(spans)
        return self.export_serialized(serialized, len(spans))

    def export_serialized(self, body: bytes, span_count: int) -> SpanExportResult:
        """Send an ExportTraceServiceRequest already serialized (by `_otlp`)."""
        otel = self._tracepond_otel
        if otel is None:
            raise RuntimeError("this OpenTelemetry version cannot send pre-serialized spans")
        if self._shutdown:
            otel._logger.warning("Exporter already shutdown, ignoring batch")
            self.last_failure = "tracepond's exporter was shut down (tracepond.shutdown())"
            return SpanExportResult.FAILURE
        this: Any = self
        with this._metrics.export_operation(span_count) as result:
            limit = this._max_request_size
            if otel._is_request_too_large(body, limit):
                otel._logger.warning(
                    "Dropping span batch: serialized size %d bytes exceeds max_request_size "
                    "%d bytes.",
                    len(body),
                    limit,
                )
                result.error = otel.RequestPayloadTooLargeError(
                    f"Serialized span request size {len(body)} bytes exceeds "
                    f"max_request_size {limit} bytes."
                )
                self.last_failure = (
                    f"a batch of {len(body)} bytes is over the exporter's max_request_size"
                )
                return SpanExportResult.FAILURE
            export_result = this._client.export(body)
            if not export_result.success:
                result.error = export_result.error
                result.error_attrs = (
                    {otel.HTTP_RESPONSE_STATUS_CODE: export_result.status_code}
                    if export_result.status_code is not None
                    else None
                )
                self.last_failure = http_failure(
                    this._endpoint,
                    export_result.status_code,
                    export_result.error,
                    _is_connection_error(this._client, export_result.error),
                )
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS


def _is_connection_error(client: Any, error: object) -> bool:
    """Whether OTel's HTTP transport calls `error` a connection error (nothing listening...)."""
    try:
        return bool(client._transport.is_connection_error(error))
    except Exception:
        return "connect" in type(error).__name__.lower()


def _http_internals(exporter: HttpSpanExporter) -> Any:
    """OTel's HTTP exporter module when it has everything `export` above uses, else None."""
    otel: Any = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    required = (
        hasattr(getattr(exporter, "_client", None), "export"),
        hasattr(getattr(exporter, "_metrics", None), "export_operation"),
        isinstance(getattr(exporter, "_max_request_size", None), int),
        isinstance(getattr(exporter, "_shutdown", None), bool),
        *(hasattr(otel, name) for name in _HTTP_NAMES),
    )
    return otel if all(required) else None


_HTTP_NAMES = (
    "_is_request_too_large",
    "_logger",
    "RequestPayloadTooLargeError",
    "HTTP_RESPONSE_STATUS_CODE",
)
