"""`tracepond.span()` and `tracepond.current_span()`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType

from opentelemetry import trace as otel_trace
from opentelemetry.trace import INVALID_SPAN, Span
from opentelemetry.util.types import AttributeValue

from tracepond.sdk import _current, _runtime
from tracepond.sdk import _direct as direct
from tracepond.sdk._handle import SpanHandle, record_error
from tracepond.sdk._kinds import SpanKind, coerce_kind, kind_attributes

logger = logging.getLogger("tracepond")


def start_span(
    name: str, kind: SpanKind, attributes: Mapping[str, AttributeValue] | None = None
) -> Span:
    """A started (not yet current) span carrying the kind attributes; INVALID_SPAN on error."""
    try:
        attrs: dict[str, AttributeValue] = dict(kind_attributes(kind, name))
        if attributes:
            attrs.update(attributes)
        return direct.start_span(_runtime.tracer(), name, attrs)
    except Exception:
        logger.warning("tracepond: could not start span %r", name, exc_info=True)
        return INVALID_SPAN


def attach(span: Span) -> object:
    return _current.attach(span)


def detach(token: object) -> None:
    try:
        _current.detach(token)  # type: ignore[arg-type]
    except Exception:
        logger.debug("tracepond: context detach failed", exc_info=True)


def end(span: Span) -> None:
    try:
        span.end()
    except Exception:
        logger.warning("tracepond: could not end span", exc_info=True)


class span:  # lower case: used like a function, `with tracepond.span(...) as s:`
    """Context manager (sync or async) for one step; yields a `SpanHandle`.

    An exception leaving the block marks the span ERROR with an `exception` event and
    propagates unchanged.
    """

    __slots__ = ("_attributes", "_kind", "_name", "_span", "_token")

    def __init__(
        self,
        name: str,
        kind: SpanKind | str = SpanKind.UNKNOWN,
        *,
        attributes: Mapping[str, AttributeValue] | None = None,
    ) -> None:
        self._name = name
        self._kind = coerce_kind(kind)
        self._attributes = attributes
        self._span: Span = INVALID_SPAN
        self._token: object = None

    def __enter__(self) -> SpanHandle:
        self._span = start_span(self._name, self._kind, self._attributes)
        self._token = attach(self._span)
        return SpanHandle(self._span)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            try:
                record_error(self._span, exc)
            except Exception:
                logger.warning("tracepond: could not record error", exc_info=True)
        detach(self._token)
        end(self._span)

    async def __aenter__(self) -> SpanHandle:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def current_span() -> SpanHandle:
    """Handle on the current span (a no-op handle when there is none)."""
    return SpanHandle(otel_trace.get_current_span())
