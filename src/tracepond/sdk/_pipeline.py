"""The one span processor tracepond adds to a TracerProvider.

OTel providers cannot remove a processor once added, so tracepond adds this one exactly once
and swaps what it delegates to (a batch or simple processor around an exporter) when `init()`
is called again or `shutdown()` is called. It also stamps `tracepond.context()` values on every
span as it starts. Every hook swallows errors: export trouble must never reach user code.
"""

from __future__ import annotations

import logging
import threading

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from tracepond.sdk import _context
from tracepond.sdk._batch import EncodingBatchProcessor
from tracepond.sdk._context import current_values, stamp

logger = logging.getLogger("tracepond")


class Pipeline(SpanProcessor):
    def __init__(self) -> None:
        self._delegate: SpanProcessor | None = None
        self._start_hook: SpanProcessor | None = None  # the delegate, if its on_start does work
        self._lock = threading.Lock()

    def replace(self, delegate: SpanProcessor | None) -> SpanProcessor | None:
        """Install a new delegate; returns the previous one for the caller to shut down."""
        with self._lock:
            previous, self._delegate = self._delegate, delegate
            # tracepond's batch processor does nothing as spans start: skip the call.
            self._start_hook = None if isinstance(delegate, EncodingBatchProcessor) else delegate
        return previous

    @property
    def delegate(self) -> SpanProcessor | None:
        return self._delegate

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        try:
            if _context.used:
                values = current_values(parent_context)
                if values is not None:
                    stamp(span, values)
            delegate = self._start_hook
            if delegate is not None:
                delegate.on_start(span, parent_context=parent_context)
        except Exception:
            logger.warning("tracepond: span start hook failed", exc_info=True)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            delegate = self._delegate
            if delegate is not None:
                delegate.on_end(span)
        except Exception:
            logger.warning("tracepond: could not queue span for export", exc_info=True)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        delegate = self._delegate
        if delegate is None:
            return True
        try:
            return bool(delegate.force_flush(timeout_millis))
        except Exception:
            logger.warning("tracepond: flush failed", exc_info=True)
            return False

    def shutdown(self) -> None:
        previous = self.replace(None)
        if previous is not None:
            shutdown_quietly(previous)


def shutdown_quietly(processor: SpanProcessor) -> None:
    try:
        processor.shutdown()
    except Exception:
        logger.warning("tracepond: processor shutdown failed", exc_info=True)
