"""Direct spans: tracepond's own spans, made without the SDK's per-span machinery.

Why: in a decorated call, OTel's `Tracer.start_span` and `Span.end` cost more than everything
tracepond does (bench/README.md, "SDK overhead"): the sampler, the tracer metrics hook, a lock,
`BoundedAttributes` (its own lock, a cleaning pass over every creation attribute),
two `BoundedList`s, the processor fan-out, and a `ReadableSpan` copy at the end.

When nothing but tracepond's pipeline can observe a span, none of that changes what is exported.
That is the case when the tracer's provider has tracepond's `Pipeline` as its only processor,
the pipeline delegates to the `EncodingBatchProcessor`, and the provider keeps the SDK defaults
for everything that decides about a span: the `ParentBased(ALWAYS_ON)` sampler, random ids
(`RandomIdGenerator` or tracepond's `PrivateIdGenerator`), an enabled tracer and no SDK-internal
tracer metrics. Then `start()` makes a `DirectSpan` (its ids from `_ids`), otherwise (another
processor, a custom sampler, an unsampled parent...) it returns None and the caller uses the
SDK's `start_span`.

A `DirectSpan` is an SDK `Span` subclass, so OTel's API and SDK calls and `isinstance` checks
work on it unchanged. It differs only where it is cheaper and exports the same thing:
attributes are a plain dict, written under OTel's rules (value cleaning and truncation,
attribute count limit evicting the oldest, invalid keys counted as dropped); events and links
lists exist only once one is added; and `end()` hands the span itself to the pipeline, where it
is encoded straight away. Tests check that the OTLP bytes of the same calls through both paths
are the same (tests/sdk/test_direct.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from time import time_ns
from typing import Any

from opentelemetry.attributes import _clean_attribute_value
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace import Tracer as SDKTracer
from opentelemetry.sdk.trace import sampling
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import DEFAULT_TRACE_STATE
from opentelemetry.util.types import AttributeValue

from tracepond.sdk import _context
from tracepond.sdk._batch import EncodingBatchProcessor
from tracepond.sdk._context import current_values, stamp
from tracepond.sdk._current import span_of
from tracepond.sdk._ids import PrivateIdGenerator, span_id, trace_id
from tracepond.sdk._pipeline import Pipeline

logger = logging.getLogger("tracepond")

_SIMPLE_VALUES = frozenset((str, bool, int, float))
_MISSING: Any = object()
_UNSET = Status(StatusCode.UNSET)
_SAMPLED_RANDOM = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


class DirectSpan(SDKSpan):
    """An SDK span with a lean constructor, dict attributes and a direct `end()`."""

    # Fields every span shares until one is changed on the instance (set_status, add_event...).
    _kind = SpanKind.INTERNAL
    _end_time: int | None = None
    _events: Any = ()
    _links: Any = ()
    _status = _UNSET
    _instrumentation_info = None
    _record_exception = True
    _set_status_on_exception = True
    _dropped_attributes = 0
    _record_end_metrics = None
    _trace_config = None
    _sampler = None
    # Only the SDK methods that DirectSpan overrides take the lock; kept for any other caller.
    _lock = threading.Lock()

    def __init__(
        self,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        tracer: SDKTracer,
        pipeline: Pipeline,
        attributes: Mapping[str, AttributeValue] | None,
    ) -> None:
        self._name = name
        self._context = context
        self._parent = parent
        self._resource = tracer.resource
        self._instrumentation_scope = tracer._instrumentation_scope
        self._limits = limits = tracer._span_limits
        self._span_processor = pipeline
        self._attributes = {}
        if attributes:
            # The common case (clean values that fit the limits) is one copy; else one by one.
            max_count = limits.max_span_attributes
            if limits.max_span_attribute_length is None and (
                max_count is None or len(attributes) <= max_count
            ):
                self._attributes = _simple_copy(attributes)
            if not self._attributes:
                self.set_attributes(attributes)
        self._start_time = time_ns()

    def __new__(cls, *args: Any, **kwargs: Any) -> DirectSpan:
        return object.__new__(cls)  # the SDK's __new__ only guards against `Span(...)` itself

    @property
    def dropped_attributes(self) -> int:
        return self._dropped_attributes

    # Read by the encoder for every span: without the SDK's isinstance checks against the
    # BoundedList ABC. Events and links are () until the first one is added.
    @property
    def dropped_events(self) -> int:
        events = self._events
        return events.dropped if type(events) is BoundedList else 0  # type: ignore[no-any-return]

    @property
    def dropped_links(self) -> int:
        links = self._links
        return links.dropped if type(links) is BoundedList else 0  # type: ignore[no-any-return]

    def set_attribute(self, key: str, value: Any) -> None:
        if self._end_time is not None:
            logger.warning("Setting attribute on ended span.")
            return
        if not key or type(key) is not str:
            logger.warning("invalid key `%s`. must be non-empty string. Dropping key.", key)
            self._dropped_attributes += 1
            return
        limits = self._limits
        max_length = limits.max_span_attribute_length
        if type(value) not in _SIMPLE_VALUES or (max_length is not None and type(value) is str):
            value = _clean_attribute_value(value, max_length)
        attributes: dict[str, Any] = self._attributes  # type: ignore[assignment]
        if attributes.pop(key, _MISSING) is _MISSING:
            max_count = limits.max_span_attributes
            if max_count is not None and len(attributes) >= max_count:
                if max_count == 0:
                    self._dropped_attributes += 1
                    return
                logger.warning("Attributes dict is full. Dropping the oldest key-value pair.")
                del attributes[next(iter(attributes))]
                self._dropped_attributes += 1
        attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def _add_event(self, event: Any) -> None:
        self._events = self._appended(self._events, self._limits.max_events, event, "_add_event")

    def _add_link(self, link: Any) -> None:
        self._links = self._appended(self._links, self._limits.max_links, link, "_add_link")

    def _appended(self, items: Any, limit: int | None, item: Any, method: str) -> Any:
        """`items` with `item` added: a BoundedList made on first use (spans start with ())."""
        if self._end_time is not None:
            logger.warning("Tried calling %s on an ended span.", method)
            return items
        if type(items) is not BoundedList:
            items = BoundedList(limit)
        items.append(item)
        return items

    def start(self, start_time: int | None = None, parent_context: Any = None) -> None:
        logger.warning("Calling start() on a started span.")

    def end(self, end_time: int | None = None) -> None:
        # Unlike the SDK, no lock: two threads ending one span at the same instant may both
        # export it; the server stores a span sent twice once.
        if self._end_time is not None:
            logger.warning("Calling end() on an ended span.")
            return
        self._end_time = end_time if end_time is not None else time_ns()
        # Straight to the pipeline's delegate (normally the encoding processor), saving a
        # call level; nothing when the pipeline has been shut down since the span started.
        pipeline: Pipeline = self._span_processor  # type: ignore[assignment]
        delegate = pipeline._delegate
        if delegate is not None:
            try:
                delegate.on_end(self)
            except Exception:
                logger.warning("tracepond: could not queue span for export", exc_info=True)


def _simple_copy(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A copy when every key and value needs no cleaning; empty otherwise."""
    for key, value in attributes.items():
        if not key or type(key) is not str or type(value) not in _SIMPLE_VALUES:
            return {}
    return dict(attributes)


class _Route:
    """Whether spans of one tracer can be direct, and the objects that decision rests on."""

    __slots__ = (
        "config",
        "delegate",
        "direct",
        "id_generator",
        "pipeline",
        "processors",
        "sampler",
        "tracer",
    )

    def __init__(self, tracer: Any) -> None:
        self.tracer = tracer
        self.processors = tracer.span_processor._span_processors
        self.pipeline: Any = self.processors[0] if len(self.processors) == 1 else None
        self.delegate = getattr(self.pipeline, "_delegate", None)
        self.sampler = tracer.sampler
        self.id_generator = tracer.id_generator
        self.config = tracer._tracer_config
        self.direct = (
            type(self.pipeline) is Pipeline
            and type(self.delegate) is EncodingBatchProcessor
            and _default_sampler(self.sampler)
            # Either way the ids are random: a direct span draws them from tracepond's private
            # generator (_ids), which user code cannot seed.
            and type(self.id_generator) in (RandomIdGenerator, PrivateIdGenerator)
            and self.config.is_enabled
            # SDK-internal span metrics on (OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED): the SDK
            # path records them, so take it.
            and type(tracer._tracer_metrics).__name__ == "NoOpTracerMetrics"
        )

    def holds(self, tracer: Any) -> bool:
        return (
            tracer is self.tracer
            and tracer.span_processor._span_processors is self.processors
            and (self.pipeline is None or self.pipeline._delegate is self.delegate)
            and tracer.sampler is self.sampler
            and tracer.id_generator is self.id_generator
            and tracer._tracer_config is self.config
        )


def _default_sampler(sampler: Any) -> bool:
    return (
        type(sampler) is sampling.ParentBased
        and sampler._root is sampling.ALWAYS_ON
        and sampler._remote_parent_sampled is sampling.ALWAYS_ON
        and sampler._local_parent_sampled is sampling.ALWAYS_ON
        and sampler._remote_parent_not_sampled is sampling.ALWAYS_OFF
        and sampler._local_parent_not_sampled is sampling.ALWAYS_OFF
    )


# Routes by tracer (tracepond's and the LangChain handler's, normally), checked per span.
_routes: dict[int, _Route] = {}
_MAX_ROUTES = 64


def start_span(
    tracer: Any,
    name: str,
    attributes: Mapping[str, AttributeValue] | None,
    context: Context | None = None,
) -> Span:
    """A started span: direct when nothing but tracepond's pipeline can see it, else the SDK's.

    `context` holds the parent (the current context when None), as in `Tracer.start_span`.
    """
    span = start(tracer, name, attributes, context)
    if span is not None:
        return span
    return tracer.start_span(name, context=context, attributes=attributes)  # type: ignore[no-any-return]


def start(
    tracer: Any,
    name: str,
    attributes: Mapping[str, AttributeValue] | None,
    context: Context | None = None,
) -> DirectSpan | None:
    """A started direct span, or None: then the caller starts an SDK span instead."""
    try:
        route = _routes.get(id(tracer))
        if route is None or not route.holds(tracer):
            if type(tracer) is not SDKTracer:
                return None
            route = _new_route(tracer)
        if not route.direct:
            return None
        current = span_of(context)
        parent: SpanContext | None = None if current is None else current.get_span_context()
        if parent is not None and parent.is_valid:
            flags = parent.trace_flags
            if not flags & TraceFlags.SAMPLED:
                return None  # the SDK makes the non-recording span ParentBased asks for
            span_context = SpanContext(
                parent.trace_id,
                span_id(),
                False,
                _SAMPLED_RANDOM if flags & TraceFlags.RANDOM_TRACE_ID else _SAMPLED,
                parent.trace_state,
            )
        else:
            parent = None
            span_context = SpanContext(
                trace_id(), span_id(), False, _SAMPLED_RANDOM, DEFAULT_TRACE_STATE
            )
        span = DirectSpan(name, span_context, parent, tracer, route.pipeline, attributes)
    except Exception:
        logger.warning("tracepond: direct span failed, using the SDK's", exc_info=True)
        return None
    if _context.used:  # what Pipeline.on_start does for SDK spans
        try:
            values = current_values(context)
            if values is not None:
                stamp(span, values)
        except Exception:
            logger.warning("tracepond: span start hook failed", exc_info=True)
    return span


def _new_route(tracer: Any) -> _Route:
    if len(_routes) >= _MAX_ROUTES:
        _routes.clear()
    route = _routes[id(tracer)] = _Route(tracer)
    return route
