"""The tracepond SDK: instrumentation for agent processes. Imports no server code."""

from tracepond.sdk._config import Settings
from tracepond.sdk._context import context
from tracepond.sdk._decorator import trace
from tracepond.sdk._handle import SpanHandle
from tracepond.sdk._kinds import SpanKind
from tracepond.sdk._runtime import settings
from tracepond.sdk._setup import flush, init, shutdown
from tracepond.sdk._span import current_span, span

__all__ = [
    "Settings",
    "SpanHandle",
    "SpanKind",
    "context",
    "current_span",
    "flush",
    "init",
    "settings",
    "shutdown",
    "span",
    "trace",
]
