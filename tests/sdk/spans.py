"""Helpers to assert on finished spans as a tree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

import tracepond


class Spans:
    """Finished spans of the SDK path: OTel's span objects, from an in-memory exporter."""

    mode = "sdk"

    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def init(self, **settings: Any) -> None:
        """`tracepond.init()` again with other settings, keeping this fixture's pipeline."""
        tracepond.init(exporter=self.exporter, batch=False, **settings)

    def all(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def named(self, name: str) -> ReadableSpan:
        matches = [s for s in self.all() if s.name == name]
        assert len(matches) == 1, f"{len(matches)} spans named {name!r}: {self.names()}"
        return matches[0]

    def all_named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.name == name]

    def names(self) -> list[str]:
        return [s.name for s in self.all()]

    def tree(self) -> list[Any]:
        """Nested `(name, [children...])` per root, children in start order."""
        spans = sorted(self.all(), key=lambda s: s.start_time or 0)
        ids = {s.context.span_id for s in spans}

        def build(parent_id: int | None) -> list[Any]:
            return [
                (s.name, build(s.context.span_id))
                for s in spans
                if (s.parent.span_id if s.parent and s.parent.span_id in ids else None) == parent_id
            ]

        return build(None)

    def clear(self) -> None:
        self.exporter.clear()


class RecordingExporter:
    """A serialized-span exporter keeping the OTLP request bodies it is given."""

    supports_serialized = True

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.fallback: list[ReadableSpan] = []

    def export_serialized(self, body: bytes, span_count: int) -> SpanExportResult:
        self.bodies.append(body)
        return SpanExportResult.SUCCESS

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.fallback.extend(spans)  # only if tracepond's encoder failed: tests assert none
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class DecodedSpans(Spans):
    """Finished spans of the direct path (tracepond's pipeline alone on the provider): the
    OTLP bytes it exported, decoded back into OTel span objects, so that every assertion about
    spans checks what actually leaves the process."""

    mode = "direct"

    def __init__(self, exporter: RecordingExporter) -> None:  # type: ignore[override]
        self.recording = exporter

    def init(self, **settings: Any) -> None:
        tracepond.init(exporter=self.recording, **settings)

    def all(self) -> tuple[ReadableSpan, ...]:
        assert tracepond.flush()
        assert self.recording.fallback == []
        return tuple(span for body in self.recording.bodies for span in decode_request(body))

    def clear(self) -> None:
        tracepond.flush()
        self.recording.bodies.clear()


def decode_request(body: bytes) -> list[ReadableSpan]:
    """An ExportTraceServiceRequest as ReadableSpans, values as OTel's SDK holds them."""
    request = ExportTraceServiceRequest.FromString(body)
    return [
        _readable(span, Resource(_attributes(rs.resource.attributes)), ss.scope)
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]


def _readable(span: Any, resource: Resource, scope: Any) -> ReadableSpan:
    remote = bool(span.flags & 0x200)
    context = SpanContext(
        int.from_bytes(span.trace_id, "big"),
        int.from_bytes(span.span_id, "big"),
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    parent = None
    if span.parent_span_id:
        parent = SpanContext(
            context.trace_id, int.from_bytes(span.parent_span_id, "big"), is_remote=remote
        )
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=resource,
        attributes=_attributes(span.attributes),
        events=[Event(e.name, _attributes(e.attributes), e.time_unix_nano) for e in span.events],
        links=[
            Link(
                SpanContext(
                    int.from_bytes(link.trace_id, "big"),
                    int.from_bytes(link.span_id, "big"),
                    is_remote=bool(link.flags & 0x200),
                ),
                _attributes(link.attributes),
            )
            for link in span.links
        ],
        kind=SpanKind(span.kind - 1),
        status=Status(StatusCode(span.status.code), span.status.message or None),
        start_time=span.start_time_unix_nano,
        end_time=span.end_time_unix_nano,
        instrumentation_scope=InstrumentationScope(scope.name, scope.version or None),
    )


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return None if which is None else getattr(value, which)


def attr(span: ReadableSpan, key: str) -> Any:
    assert span.attributes is not None
    return span.attributes.get(key)


def json_attr(span: ReadableSpan, key: str) -> Any:
    value = attr(span, key)
    assert isinstance(value, str), f"{key} missing on {span.name}: {span.attributes}"
    return json.loads(value)


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)
