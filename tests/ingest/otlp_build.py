"""Builders for OTLP ExportTraceServiceRequest messages (real protobuf classes), shared by the
ingest, store, query and server tests."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

BASE_NS = 1_700_000_000_000_000_000
_counter = itertools.count(1)


def trace_id() -> bytes:
    """A fresh random 16-byte trace id (never all zero)."""
    return os.urandom(15) + bytes([1 + next(_counter) % 255])


def span_id() -> bytes:
    return os.urandom(7) + bytes([1 + next(_counter) % 255])


def any_value(value: Any) -> AnyValue:
    out = AnyValue()
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, Mapping):
        out.kvlist_value.values.extend(key_values(value))
    elif isinstance(value, list | tuple):
        out.array_value.values.extend(any_value(v) for v in value)
    elif value is not None:
        raise TypeError(value)
    return out


def key_values(attributes: Mapping[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attributes.items()]


def make_span(
    trace: bytes,
    span: bytes,
    name: str = "span",
    *,
    parent: bytes = b"",
    start: int = BASE_NS,
    end: int | None = None,
    kind: int = Span.SPAN_KIND_INTERNAL,
    attributes: Mapping[str, Any] | None = None,
    status_code: int = 0,
    status_message: str = "",
) -> Span:
    out = Span(
        trace_id=trace,
        span_id=span,
        parent_span_id=parent,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1_000 if end is None else end,
    )
    out.attributes.extend(key_values(attributes or {}))
    out.status.code = status_code  # type: ignore[assignment]
    out.status.message = status_message
    return out


def make_request(
    spans: Iterable[Span],
    *,
    service: str = "test-service",
    scope: str = "tests",
    resource: Mapping[str, Any] | None = None,
) -> ExportTraceServiceRequest:
    resource_spans = ResourceSpans()
    resource_spans.resource.attributes.extend(
        key_values({"service.name": service, **(resource or {})})
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = scope
    scope_spans.spans.extend(spans)
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def chain(trace: bytes, count: int, *, start: int = BASE_NS, name: str = "s") -> list[Span]:
    """``count`` spans, each the parent of the next (span 0 is the root)."""
    ids = [span_id() for _ in range(count)]
    return [
        make_span(
            trace,
            ids[i],
            f"{name}{i}",
            parent=ids[i - 1] if i else b"",
            start=start + i,
            end=start + 2 * count - i,
        )
        for i in range(count)
    ]


def span_ids(spans: Sequence[Span]) -> set[str]:
    return {s.span_id.hex() for s in spans}


def flatten(roots: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every node of an API trace tree, depth first, without recursion."""
    out: list[dict[str, Any]] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node["children"]))
    return out
