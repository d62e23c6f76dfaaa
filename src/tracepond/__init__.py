"""tracepond: OpenTelemetry-native tracing for LLM agents and RAG pipelines.

`import tracepond` loads only the SDK (OpenTelemetry API/SDK and the OTLP exporter): the
server lives in subpackages that are imported only by `tracepond serve`.
"""

from tracepond._version import __version__
from tracepond.client import APIError, Client
from tracepond.sdk import (
    Settings,
    SpanHandle,
    SpanKind,
    context,
    current_span,
    flush,
    init,
    settings,
    shutdown,
    span,
    trace,
)

__all__ = [
    "APIError",
    "Client",
    "Settings",
    "SpanHandle",
    "SpanKind",
    "__version__",
    "context",
    "current_span",
    "flush",
    "init",
    "settings",
    "shutdown",
    "span",
    "trace",
]
