"""`tracepond.context(...)`: session, user, tags and metadata for every span below.

The values live in the OpenTelemetry context, so they follow OTel propagation rules: they reach
spans in asyncio tasks and in threads that copy the context (`contextvars.copy_context`,
LangChain's executors), exactly like the current span does. A span processor stamps them on
each span as it starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span

from tracepond.sdk import _attrs
from tracepond.sdk._serialize import to_json

_KEY = otel_context.create_key("tracepond.context")
# Set once `context()` has been entered: until then no span can carry values, and the span
# processor skips looking them up (that lookup is a measurable part of a span's cost).
used = False


@dataclass(frozen=True)
class ContextValues:
    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def merged(
        self,
        session_id: str | None,
        user_id: str | None,
        tags: Sequence[str] | None,
        metadata: Mapping[str, Any] | None,
    ) -> ContextValues:
        """Inner values win; tags accumulate, metadata merges key by key."""
        new_tags = self.tags + tuple(t for t in (tags or ()) if t not in self.tags)
        return ContextValues(
            session_id=session_id if session_id is not None else self.session_id,
            user_id=user_id if user_id is not None else self.user_id,
            tags=new_tags,
            metadata=MappingProxyType({**self.metadata, **(metadata or {})}),
        )


def current_values(ctx: otel_context.Context | None = None) -> ContextValues | None:
    value = otel_context.get_value(_KEY, ctx)
    return value if isinstance(value, ContextValues) else None


@contextlib.contextmanager
def context(
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    tags: Sequence[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[None]:
    """Attach session/user ids, tags and metadata to every span started inside the block.

    Works in `with` blocks of sync and async code alike (entering it does no I/O).
    """
    global used
    used = True
    outer = current_values() or ContextValues()
    values = outer.merged(session_id, user_id, tags, metadata)
    token = otel_context.attach(otel_context.set_value(_KEY, values))
    try:
        yield
    finally:
        otel_context.detach(token)


def stamp(span: Span, values: ContextValues) -> None:
    """Write context values as attributes (GenAI and the common `session.id`/`user.id`)."""
    if values.session_id is not None:
        span.set_attribute(_attrs.CONVERSATION_ID, values.session_id)
        span.set_attribute(_attrs.SESSION_ID, values.session_id)
    if values.user_id is not None:
        span.set_attribute(_attrs.USER_ID, values.user_id)
    if values.tags:
        span.set_attribute(_attrs.TAGS, list(values.tags))
    set_metadata(span, values.metadata)


def set_metadata(span: Span, metadata: Mapping[str, Any]) -> None:
    """One attribute per key; non-scalar values as JSON text."""
    for key, value in metadata.items():
        if not isinstance(value, str | bool | int | float):
            value = to_json(value)
        span.set_attribute(_attrs.METADATA_PREFIX + str(key), value)
