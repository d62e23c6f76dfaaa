"""Direct spans export exactly what SDK spans export, and are used only when nothing else can
tell the difference (tracepond's pipeline alone on the provider, SDK defaults)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)

import tracepond
from tracepond.sdk import _direct

from .spans import RecordingExporter, decode_request

REMOTE = SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C,
    0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "x1")]),
)


@pytest.fixture(autouse=True)
def _restore_global_pipeline(provider: TracerProvider) -> Iterator[None]:
    yield
    tracepond.init(exporter=InMemorySpanExporter(), batch=False)  # back to the global provider
    tracepond.shutdown()


class Run:
    """A provider of its own with tracepond's pipeline (plus `extra` processors), initialized."""

    def __init__(self, limits: SpanLimits | None = None, **provider_args: Any) -> None:
        self.exporter = RecordingExporter()
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": "direct-test"}),
            span_limits=limits or SpanLimits(),
            **provider_args,
        )
        tracepond.init(exporter=self.exporter, tracer_provider=self.provider)

    def add(self, processor: SpanProcessor) -> None:
        self.provider.add_span_processor(processor)

    def exported(self) -> list[ReadableSpan]:
        assert tracepond.flush()
        assert self.exporter.fallback == []
        return [span for body in self.exporter.bodies for span in decode_request(body)]

    def request(self) -> dict[str, Any]:
        """Everything exported, as one request's dict, ids and times replaced by ordinals."""
        assert tracepond.flush()
        merged = ExportTraceServiceRequest()
        for body in self.exporter.bodies:
            merged.MergeFromString(body)
        return _normalized(MessageToDict(merged))


def _normalized(tree: Any, ids: dict[str, str] | None = None) -> Any:
    ids = {} if ids is None else ids
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            if key in ("traceId", "spanId", "parentSpanId"):
                out[key] = ids.setdefault(value, f"id{len(ids)}")
            elif key.endswith("UnixNano"):
                out[key] = "t"
            else:
                out[key] = _normalized(value, ids)
        return out
    if isinstance(tree, list):
        return [_normalized(item, ids) for item in tree]
    return tree


@tracepond.trace(kind="tool")
def lookup(city: str, units: str = "C") -> dict[str, Any]:
    return {"city": city, "temp": 21.5, "units": units, "tags": ["a", "b"]}


@tracepond.trace(kind="agent")
def agent(question: str) -> str:
    lookup("Paris")
    with tracepond.span("retrieve", kind="retriever") as step:
        step.set_retrieval(
            query=question,
            documents=[{"id": "d1", "content": "Paris is in France.", "score": 0.9}],
        )
    with tracepond.span("answer", kind="chat") as llm:
        llm.set_model("gpt-test", provider="openai")
        llm.set_usage(input_tokens=12, output_tokens=3)
        llm.set_input_messages([{"role": "user", "content": question}])
        llm.set_output_messages([{"role": "assistant", "content": "21.5 C"}])
    return "21.5 C"


@tracepond.trace
def broken(n: int) -> int:
    raise ValueError(f"bad {n}")


def _api_calls() -> None:
    """OTel API calls on the current span, every value type and every misuse OTel tolerates."""
    span = otel_trace.get_current_span()
    span.set_attribute("s", "text")
    span.set_attribute("b", True)
    span.set_attribute("i", -7)
    span.set_attribute("f", 2.5)
    span.set_attribute("bytes", b"\x00\x01")
    span.set_attribute("list", ["x", "y"])
    span.set_attribute("ints", (1, 2, 3))
    span.set_attribute("map", {"k": 1, "nested": {"z": [True]}})  # type: ignore[dict-item]
    span.set_attribute("none", None)  # type: ignore[arg-type]
    span.set_attribute("obj", object())  # type: ignore[arg-type]
    span.set_attribute("", "empty key")
    span.set_attribute(7, "int key")  # type: ignore[arg-type]
    span.set_attribute("s", "moved to the end")
    span.set_attribute("long", "L" * 300)
    span.set_attributes({"m1": 1, "m2": ["q"], "": 3})
    span.add_event("evt", {"a": 1, "b": "two", "c": 3.0})
    span.add_event("evt2")
    span.add_event("evt3", {"x": "y"}, timestamp=123)
    span.add_link(REMOTE, {"link.attr": "v"})
    span.add_link(otel_trace.INVALID_SPAN_CONTEXT)
    span.update_name("renamed")
    span.set_status(Status(StatusCode.ERROR, "first"))
    span.set_status(StatusCode.OK)
    span.set_status(StatusCode.ERROR, "ignored after OK")
    span.record_exception(KeyError("k"), {"extra": "x"}, timestamp=5)


def _scenario() -> None:
    agent("weather in Paris?")
    with pytest.raises(ValueError):
        broken(3)
    with tracepond.span("api", kind="chain"):
        _api_calls()
    token = otel_context.attach(otel_trace.set_span_in_context(NonRecordingSpan(REMOTE)))
    try:
        lookup("Oslo", units="F")
    finally:
        otel_context.detach(token)
    with tracepond.context(session_id="s-1", user_id="u-1", tags=["t"]):
        lookup("Rome")
    with tracepond.span("ended twice") as handle:
        pass
    handle.span.set_attribute("after", "end")
    handle.span.end()


def _both_paths(scenario: Callable[[], None], limits: SpanLimits | None = None) -> None:
    direct = Run(limits)
    scenario()
    assert tracepond.flush()
    sdk = Run(limits)
    sdk.add(SimpleSpanProcessor(InMemorySpanExporter()))  # a second processor: SDK spans
    scenario()
    expected = sdk.request()
    assert expected["resourceSpans"]
    assert direct.request() == expected


def test_direct_spans_export_what_sdk_spans_export() -> None:
    _both_paths(_scenario)


def test_limits_apply_the_same_way() -> None:
    limits = SpanLimits(
        max_span_attributes=6,
        max_span_attribute_length=20,
        max_events=2,
        max_links=1,
        max_event_attributes=2,
        max_link_attributes=1,
        max_attribute_length=20,
    )
    _both_paths(_scenario, limits)


def test_zero_attribute_limit_drops_everything() -> None:
    _both_paths(_scenario, SpanLimits(max_span_attributes=0))


def test_direct_span_is_an_sdk_span() -> None:
    run = Run()
    with tracepond.span("probe", kind="tool") as handle:
        span = handle.span
        assert isinstance(span, _direct.DirectSpan)
        assert isinstance(span, SDKSpan)
        assert span.is_recording()
        span.set_attribute("k", [1, 2])
        assert span.attributes["k"] == (1, 2)
        span.add_event("e", {"a": 1})
    assert not span.is_recording()
    assert span.end_time is not None and span.start_time is not None
    assert span.end_time >= span.start_time
    assert [e.name for e in span.events] == ["e"]
    assert span.dropped_attributes == span.dropped_events == span.dropped_links == 0
    assert '"name": "probe"' in span.to_json()
    (exported,) = run.exported()
    assert exported.context.span_id == span.get_span_context().span_id
    assert exported.attributes["gen_ai.tool.name"] == "probe"


def test_ids_and_flags_follow_the_parent() -> None:
    run = Run()
    with tracepond.span("root") as root, tracepond.span("child") as child:
        pass
    root_context = root.span.get_span_context()
    child_context = child.span.get_span_context()
    assert root_context.trace_flags == TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID
    assert child_context.trace_id == root_context.trace_id
    assert child.span.parent == root_context  # type: ignore[attr-defined]
    assert child_context.span_id not in (0, root_context.span_id)
    token = otel_context.attach(otel_trace.set_span_in_context(NonRecordingSpan(REMOTE)))
    try:
        with tracepond.span("remote child") as remote_child:
            pass
    finally:
        otel_context.detach(token)
    context = remote_child.span.get_span_context()
    assert isinstance(remote_child.span, _direct.DirectSpan)
    assert context.trace_id == REMOTE.trace_id
    assert context.trace_state == REMOTE.trace_state
    assert context.trace_flags == TraceFlags.SAMPLED  # the remote parent's id is not random
    assert {s.name for s in run.exported()} == {"root", "child", "remote child"}


def _direct_taken() -> bool:
    with tracepond.span("probe") as handle:
        return isinstance(handle.span, _direct.DirectSpan)


def test_direct_only_while_tracepond_alone_sees_spans() -> None:
    run = Run()
    assert _direct_taken()
    memory = InMemorySpanExporter()
    run.add(SimpleSpanProcessor(memory))
    assert not _direct_taken()
    assert [s.name for s in memory.get_finished_spans()] == ["probe"]
    assert [s.name for s in run.exported()] == ["probe", "probe"]


@pytest.mark.parametrize(
    "provider_args",
    [
        {"sampler": TraceIdRatioBased(1.0)},
        {"sampler": ParentBased(TraceIdRatioBased(1.0))},
        {"sampler": ALWAYS_ON},
        {"id_generator": type("Ids", (RandomIdGenerator,), {})()},
    ],
    ids=["ratio", "parent-based ratio", "always-on", "own id generator"],
)
def test_sdk_spans_with_a_sampler_or_id_generator_of_ones_own(provider_args: Any) -> None:
    run = Run(**provider_args)
    assert not _direct_taken()
    assert [s.name for s in run.exported()] == ["probe"]


def test_sdk_spans_with_a_processor_other_than_the_encoding_one() -> None:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    tracepond.init(exporter=memory, batch=False, tracer_provider=provider)
    assert not _direct_taken()
    assert [s.name for s in memory.get_finished_spans()] == ["probe"]


def test_unsampled_parent_gives_a_non_recording_span() -> None:
    run = Run()
    unsampled = SpanContext(REMOTE.trace_id, REMOTE.span_id, is_remote=True)
    token = otel_context.attach(otel_trace.set_span_in_context(NonRecordingSpan(unsampled)))
    try:
        with tracepond.span("dropped") as handle:
            assert not handle.span.is_recording()
    finally:
        otel_context.detach(token)
    assert run.exported() == []


def test_reinit_switches_paths_between_spans() -> None:
    run = Run()
    assert _direct_taken()
    memory = InMemorySpanExporter()
    tracepond.init(exporter=memory, batch=False, tracer_provider=run.provider)
    assert not _direct_taken()
    tracepond.init(exporter=run.exporter, tracer_provider=run.provider)
    assert _direct_taken()
    assert len(memory.get_finished_spans()) == 1


def test_a_failing_direct_start_falls_back_to_the_sdk(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run = Run()

    def broken_ids() -> int:
        raise RuntimeError("no ids today")

    monkeypatch.setattr(_direct, "span_id", broken_ids)
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        assert lookup("Lima")["city"] == "Lima"
    assert "direct span failed" in caplog.text
    assert [s.name for s in run.exported()] == ["lookup"]


def test_unlimited_attributes_apply_the_same_way() -> None:
    _both_paths(
        _scenario,
        SpanLimits(max_span_attributes=SpanLimits.UNSET, max_attributes=SpanLimits.UNSET),
    )


def test_sdk_spans_when_sdk_internal_metrics_are_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    run = Run()
    assert not _direct_taken()
    assert [s.name for s in run.exported()] == ["probe"]
