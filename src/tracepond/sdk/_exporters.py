"""Build the OTLP exporter for the resolved settings (HTTP built in, gRPC with the extra)."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SpanExporter

from tracepond.sdk._config import Settings


def build_exporter(settings: Settings) -> SpanExporter:
    if settings.protocol == "grpc":
        return _grpc_exporter(settings)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=settings.endpoint, headers=dict(settings.headers) or None)


def _grpc_exporter(settings: Settings) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcExporter,
        )
    except ImportError as exc:  # a setup mistake, reported once by init(), not per span
        raise ImportError(
            "tracepond: protocol 'grpc' needs the gRPC exporter: pip install 'tracepond[grpc]'"
        ) from exc
    endpoint = settings.endpoint
    insecure = endpoint.startswith("http://") or "://" not in endpoint
    return GrpcExporter(
        endpoint=endpoint, insecure=insecure, headers=dict(settings.headers) or None
    )
