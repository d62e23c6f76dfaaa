"""Global LangChain instrumentation without a `callbacks=` argument.

LangChain's public `register_configure_hook` adds a handler to every callback manager it
configures, taking the handler from a context variable. We register once a stand-in whose
`get()` returns the currently installed handler (or None), so `instrument()` and
`uninstrument()` only swap a module variable and work for every thread, not only the one that
called them.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar
from typing import Any, cast

from langchain_core.tracers.context import register_configure_hook
from opentelemetry import trace as otel_trace

from tracepond.sdk.langchain._handler import TracepondCallbackHandler

_lock = threading.Lock()
_active: TracepondCallbackHandler | None = None
_registered = False


class _ActiveHandler:
    """Quacks like the ContextVar LangChain's configure hook reads (it only calls `get`)."""

    def get(self, default: Any = None) -> TracepondCallbackHandler | None:
        return _active


def instrument(
    tracer_provider: otel_trace.TracerProvider | None = None,
) -> TracepondCallbackHandler:
    """Trace every LangChain run in the process; returns the handler in use. Idempotent."""
    global _active, _registered
    with _lock:
        if not _registered:
            # handle_class: a run that already has a TracepondCallbackHandler (passed in
            # `callbacks=`) does not get a second one.
            register_configure_hook(
                cast("ContextVar[Any]", _ActiveHandler()),
                True,
                TracepondCallbackHandler,
                None,
            )
            _registered = True
        if _active is None:
            _active = TracepondCallbackHandler(tracer_provider)
        return _active


def uninstrument() -> None:
    """Stop adding the handler to new runs (runs in progress finish their spans)."""
    global _active
    with _lock:
        _active = None


def is_instrumented() -> bool:
    return _active is not None
