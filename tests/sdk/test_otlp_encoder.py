"""tracepond's OTLP span encoder writes what OTel's `encode_spans(...).SerializeToString()` writes.

Both encoders run on the same real SDK spans; the outputs are compared byte for byte and, decoded
with `opentelemetry.proto`, message for message (which gives a readable diff on failure).
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    set_span_in_context,
)
from opentelemetry.trace.span import NonRecordingSpan, TraceState

from tracepond.sdk import _otlp
from tracepond.sdk._otlp import encode_request, encode_span, encode_span_field

ALL_TYPES: dict[str, Any] = {
    "str": "hello wörld ✓ \U0001f600",
    "empty_str": "",
    "long_str": "x" * 5000 + "é",
    "mid_str": "m" * 200,
    "bool_true": True,
    "bool_false": False,
    "int": 42,
    "zero": 0,
    "negative": -7,
    "int_max": 2**63 - 1,
    "int_min": -(2**63),
    "big_varint": 2**35 + 3,
    "double": 3.25,
    "double_zero": 0.0,
    "double_negative_zero": -0.0,
    "double_neg": -1e-300,
    "double_inf": math.inf,
    "bytes": b"\x00\x01\xfe\xff",
    "empty_bytes": b"",
    "str_array": ["a", "b", ""],
    "int_array": [1, -2, 3, 2**62],
    "bool_array": [True, False],
    "double_array": [0.5, 1.5],
    "empty_array": [],
    "mixed_array": [1, "two", 3.5, False, None],
    "kvlist": {"model": "gpt-x", "temperature": 0.2, "n": 3},
    "empty_kvlist": {},
    "nested": {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant"}]},
    "array_of_arrays": [[1, 2], ["x"], []],
}


def otel_bytes(spans: Sequence[ReadableSpan]) -> bytes:
    return bytes(encode_spans(spans).SerializeToString())


def assert_same(spans: Sequence[ReadableSpan]) -> None:
    ours = encode_request(spans)
    theirs = otel_bytes(spans)
    ours_message = ExportTraceServiceRequest.FromString(ours)
    theirs_message = ExportTraceServiceRequest.FromString(theirs)
    assert ours_message == theirs_message or _nan_only(ours_message, theirs_message)
    assert ours == theirs


def _nan_only(a: Any, b: Any) -> bool:
    # NaN != NaN, so messages holding one never compare equal: byte equality decides then.
    return "nan" in str(a).lower() and str(a) == str(b)


class Recorder:
    """A real SDK provider whose finished spans are kept."""

    def __init__(self, resource: Resource | None = None, **provider_args: Any) -> None:
        self.memory = InMemorySpanExporter()
        self.provider = TracerProvider(
            resource=resource or Resource.create({"service.name": "encoder-test"}),
            **provider_args,
        )
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))

    def spans(self) -> list[ReadableSpan]:
        return list(self.memory.get_finished_spans())


def test_every_attribute_type_and_span_field() -> None:
    recorder = Recorder()
    tracer = recorder.provider.get_tracer("encoder", "1.0", attributes={"scope.attr": "yes"})
    remote = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "value"), ("other", "x")]),
    )
    local_link = SpanContext(trace_id=1, span_id=2, is_remote=False)
    with tracer.start_as_current_span("root", kind=SpanKind.SERVER, attributes=ALL_TYPES) as root:
        root.add_event("event", {"str": "hello wörld ✓ \U0001f600", "n": 1}, timestamp=123)
        root.add_event("no attributes")
        root.add_event("")
        with tracer.start_as_current_span(
            "child",
            kind=SpanKind.CLIENT,
            links=[Link(remote, {"reason": "follows", "n": 7}), Link(local_link)],
        ) as child:
            child.set_status(Status(StatusCode.ERROR, "rate limited ✓"))
            try:
                raise ValueError("boom")
            except ValueError as error:
                child.record_exception(error)
        for kind in (SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL):
            tracer.start_span(f"kind {kind.name}", kind=kind).end()
        tracer.start_span("").end()
        unexplained = tracer.start_span("error without description")
        unexplained.set_status(StatusCode.ERROR)
        unexplained.end()
        root.set_status(Status(StatusCode.OK))
    # A remote parent (flags say so) with a trace state, and a span from a remote context.
    with tracer.start_as_current_span(
        "under remote", context=set_span_in_context(NonRecordingSpan(remote))
    ):
        pass
    tracer.start_span("explicit times", start_time=1).end(end_time=2**63 + 5)
    spans = recorder.spans()
    assert len(spans) == 9
    assert_same(spans)
    for span in spans:
        body = encode_span(span)
        assert encode_span_field(span) == b"\x12" + _otlp._varint(len(body)) + body


def test_dropped_counts_and_limits() -> None:
    recorder = Recorder(
        span_limits=SpanLimits(
            max_span_attributes=3,
            max_events=2,
            max_links=1,
            max_event_attributes=1,
            max_link_attributes=1,
        )
    )
    tracer = recorder.provider.get_tracer("limits")
    link = Link(SpanContext(5, 6, is_remote=True), {"a": 1, "b": 2})
    with tracer.start_as_current_span("crowded", links=[link, link, link]) as span:
        span.set_attributes({f"k{i}": i for i in range(6)})
        for i in range(5):
            span.add_event(f"e{i}", {"x": i, "y": i})
    assert_same(recorder.spans())


def test_span_cache_does_not_leak_into_events_links_or_other_spans() -> None:
    """The same key and value as a span attribute, an event attribute and a link attribute."""
    recorder = Recorder()
    tracer = recorder.provider.get_tracer("cache")
    same = {"key": "value", "n": 1}
    link = Link(SpanContext(7, 8, is_remote=False), same)
    for _ in range(3):
        with tracer.start_as_current_span("s", attributes=same, links=[link]) as span:
            span.add_event("e", same)
    assert_same(recorder.spans())


def test_resources_and_scopes_grouped_like_otel() -> None:
    """Several resources (two equal but distinct objects), several scopes including equal ones,
    interleaved; groups keep first-seen order and spans their order inside a group."""
    first = Recorder(Resource.create({"service.name": "a"}))
    same_as_first = Recorder(Resource.create({"service.name": "a"}))
    other = Recorder(Resource({"service.name": "b", "k": [1, 2]}, schema_url="https://s/1"))
    spans: list[ReadableSpan] = []
    for i in range(4):
        for recorder in (first, other, same_as_first):
            scope = "scope-x" if i % 2 else "scope-y"
            tracer = recorder.provider.get_tracer(scope, "2.0", schema_url="https://schema/2")
            tracer.start_span(f"{scope}-{i}").end()
            # A tracer made per call: a new scope object equal to the previous one.
            recorder.provider.get_tracer("per-call").start_span(f"per-call-{i}").end()
    for recorder in (first, other, same_as_first):
        spans.extend(recorder.spans())
    random.Random(3).shuffle(spans)
    assert_same(spans)
    request = ExportTraceServiceRequest.FromString(encode_request(spans))
    assert len(request.resource_spans) == 2


def test_scope_and_resource_edge_cases() -> None:
    recorder = Recorder(Resource({}))
    tracer = recorder.provider.get_tracer("", None)
    tracer.start_span("no scope name").end()
    spans = recorder.spans()
    # A span without an instrumentation scope (OTel writes an empty scope message).
    bare = ReadableSpan(
        name="bare",
        context=SpanContext(9, 10, is_remote=False),
        resource=Resource({"service.name": "bare"}),
        start_time=10,
        end_time=20,
    )
    assert_same([*spans, bare])
    assert encode_request([]) == otel_bytes([]) == b""


def test_unencodable_attributes_are_skipped_like_otel(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    tracer = recorder.provider.get_tracer("bad")
    with tracer.start_as_current_span("bad") as span:
        span.set_attribute("too_big", 2**64)
        span.set_attribute("too_small", -(2**63) - 1)
        span.set_attribute("surrogate", "a\ud800b")
        span.set_attribute("nested_too_big", [1, 2**70])
        span.set_attribute("fine", "still here")
    with caplog.at_level(logging.ERROR):
        assert_same(recorder.spans())
    decoded = ExportTraceServiceRequest.FromString(encode_request(recorder.spans()))
    keys = [kv.key for kv in decoded.resource_spans[0].scope_spans[0].spans[0].attributes]
    assert keys == ["fine"]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    makers: list[Callable[[], Any]] = [
        lambda: rng.choice(["", "a", "ü✓", "x" * rng.randint(60, 70), "y" * rng.randint(0, 300)]),
        lambda: rng.randint(-(2**63), 2**63 - 1),
        lambda: rng.randint(-300, 300),
        lambda: rng.random() * 10 ** rng.randint(-5, 5),
        lambda: rng.choice([True, False]),
        lambda: rng.randbytes(rng.randint(0, 20)),
    ]
    if depth < 2:
        makers += [
            lambda: [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))],
            lambda: {f"k{i}": _random_value(rng, depth + 1) for i in range(rng.randint(0, 3))},
        ]
    return rng.choice(makers)()


def test_randomized_spans_match_otel() -> None:
    rng = random.Random(20261125)
    recorder = Recorder()
    tracers = [recorder.provider.get_tracer(f"t{i}", f"{i}.0") for i in range(3)]
    for i in range(300):
        tracer = rng.choice(tracers)
        attributes = {f"a{j}": _random_value(rng) for j in range(rng.randint(0, 6))}
        with tracer.start_as_current_span(f"span {i % 17}", attributes=attributes) as span:
            if rng.random() < 0.3:
                span.add_event("ev", {"v": _random_value(rng)})
            if rng.random() < 0.2:
                span.set_status(Status(StatusCode.ERROR, rng.choice(["", "bad", None])))
            if rng.random() < 0.3:
                tracer.start_span("child", attributes={"c": _random_value(rng)}).end()
    spans = recorder.spans()
    for start in range(0, len(spans), 97):
        assert_same(spans[start : start + 97])


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_otlp, "_CACHE_LIMIT", 8)
    recorder = Recorder()
    tracer = recorder.provider.get_tracer("many")
    for i in range(50):
        tracer.start_span(f"name {i}", attributes={f"key {i}": f"value {i}"}).end()
    assert_same(recorder.spans())
    assert len(_otlp._names) <= 8
    assert len(_otlp._str_attrs) <= 8
    assert len(_otlp._key_fields) <= 8
