"""The real OTel Python SDK exporters (gRPC and HTTP, with and without compression) send traces to
a real ``tracepond serve``; the trees are read back through the HTTP API and compared field by
field with what the SDK recorded."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState

from ingest.otlp_build import flatten
from tracepond.sdk._batch import EncodingBatchProcessor
from tracepond.sdk._exporters import FastHttpSpanExporter
from tracepond.sdk._grpc import FastGrpcSpanExporter

ALL_TYPES: dict[str, Any] = {
    "str": "hello wörld ✓",
    "empty_str": "",
    "bool_true": True,
    "bool_false": False,
    "int": 42,
    "int_max": 2**63 - 1,
    "int_min": -(2**63),
    "double": 3.25,
    "double_neg": -1e-300,
    "bytes": b"\x00\x01\xfe\xff",
    "str_array": ["a", "b", ""],
    "int_array": [1, -2, 3],
    "bool_array": [True, False],
    "double_array": [0.5, 1.5],
    "mixed_array": [1, "two", 3.5, False],
    "kvlist": {"model": "gpt-x", "temperature": 0.2, "n": 3},
    "nested": {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant"}]},
    "array_of_arrays": [[1, 2], ["x"]],
}


def expected_json(value: Any) -> Any:
    """How tracepond renders an attribute value in the API."""
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: expected_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [expected_json(v) for v in value]
    return value


class StateSampler(Sampler):
    """Samples everything and gives every span a trace_state."""

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        # The sampler's attributes become the span's: pass them through.
        return SamplingResult(
            Decision.RECORD_AND_SAMPLE,
            attributes=attributes,
            trace_state=TraceState([("tracepond", "t61rcWkgMzE")]),
        )

    def get_description(self) -> str:
        return "StateSampler"


def record_trace(
    service: str, also: SpanProcessor | None = None
) -> tuple[list[ReadableSpan], dict[str, int]]:
    """Run an agent-shaped trace through the real SDK; returns its spans and span ids by name.
    `also` sees the spans too (and is shut down, so flushed, at the end)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "deployment.environment": "test"}),
        sampler=StateSampler(),
        span_limits=SpanLimits(max_span_attributes=40, max_events=3, max_links=2),
    )
    provider.add_span_processor(SimpleSpanProcessor(memory))
    if also is not None:
        provider.add_span_processor(also)
    tracer = provider.get_tracer(
        "tracepond.tests.agent", "1.2.3", attributes={"scope.attr": "scoped"}
    )
    external = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    with tracer.start_as_current_span(
        "agent.run", kind=SpanKind.SERVER, attributes=ALL_TYPES
    ) as root:
        with tracer.start_as_current_span("llm.call", kind=SpanKind.CLIENT) as llm:
            llm.add_event("prompt.sent", {"tokens": 12, "preview": "Hello"})
            llm.set_status(Status(StatusCode.ERROR, "rate limited"))
        with tracer.start_as_current_span(
            "tool.search",
            kind=SpanKind.PRODUCER,
            links=[Link(external, {"link.reason": "follows", "link.n": 7})],
        ) as tool:
            try:
                raise ValueError("the tool broke")
            except ValueError as exc:
                tool.record_exception(exc)
        with tracer.start_as_current_span(
            "crowded",
            kind=SpanKind.CONSUMER,
            links=[Link(external, {"i": i}) for i in range(5)],
        ) as crowded:
            crowded.set_attributes({f"a{i:02}": i for i in range(45)})
            for i in range(7):
                crowded.add_event(f"e{i}")
        root.set_status(Status(StatusCode.OK))
    provider.shutdown()
    spans = list(memory.get_finished_spans())
    return spans, {s.name: s.context.span_id for s in spans}


def http_exporter(server: Any, compression: str) -> SpanExporter:
    mode = {
        "none": HttpCompression.NoCompression,
        "gzip": HttpCompression.Gzip,
        "deflate": HttpCompression.Deflate,
    }[compression]
    return HttpExporter(endpoint=f"{server.url}/v1/traces", compression=mode, timeout=30)


def grpc_exporter(server: Any, compression: str) -> SpanExporter:
    import grpc

    mode = {"none": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip}[compression]
    return GrpcExporter(endpoint=server.grpc, insecure=True, compression=mode, timeout=30)


def export(exporter: SpanExporter, spans: Sequence[ReadableSpan]) -> None:
    try:
        assert exporter.export(spans) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()


@pytest.mark.parametrize(
    ("transport", "compression"),
    [("grpc", "none"), ("grpc", "gzip"), ("http", "none"), ("http", "gzip"), ("http", "deflate")],
)
def test_sdk_exporter_round_trip(tracepond_server: Any, transport: str, compression: str) -> None:
    service = f"agent-{transport}-{compression}"
    spans, ids = record_trace(service)
    make = grpc_exporter if transport == "grpc" else http_exporter
    export(make(tracepond_server, compression), spans)
    assert_round_trip(tracepond_server, service, spans, ids)


def fast_exporter(server: Any, transport: str, compression: str) -> SpanExporter:
    """tracepond's exporters: OTel's with tracepond's own OTLP encoder."""
    if transport == "grpc":
        import grpc

        mode = {"none": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip}
        return FastGrpcSpanExporter(
            endpoint=server.grpc, insecure=True, compression=mode[compression], timeout=30
        )
    http_mode = {"none": HttpCompression.NoCompression, "gzip": HttpCompression.Gzip}
    return FastHttpSpanExporter(
        endpoint=f"{server.url}/v1/traces", compression=http_mode[compression], timeout=30
    )


@pytest.mark.parametrize(
    ("transport", "compression"),
    [("grpc", "none"), ("grpc", "gzip"), ("http", "none"), ("http", "gzip")],
)
def test_tracepond_encoder_round_trip(
    tracepond_server: Any, transport: str, compression: str
) -> None:
    """The same trace through tracepond's exporters, batch-exported by the processor that
    `tracepond.init()` installs (spans encoded as they end): the server stores the same."""
    service = f"agent-fast-{transport}-{compression}"
    processor = EncodingBatchProcessor(fast_exporter(tracepond_server, transport, compression))
    spans, ids = record_trace(service, also=processor)  # shut down, so flushed, at the end
    assert_round_trip(tracepond_server, service, spans, ids)
    # And the exporter's own path (a batch of ReadableSpans, as SimpleSpanProcessor gives it).
    other = f"agent-fast-direct-{transport}-{compression}"
    spans, ids = record_trace(other)
    export(fast_exporter(tracepond_server, transport, compression), spans)
    assert_round_trip(tracepond_server, other, spans, ids)


def assert_round_trip(
    tracepond_server: Any, service: str, spans: list[ReadableSpan], ids: dict[str, int]
) -> None:
    trace_hex = f"{spans[0].context.trace_id:032x}"
    tree = tracepond_server.trace(trace_hex)
    assert tree is not None
    assert tree["trace_id"] == trace_hex
    summary = tree["summary"]
    assert summary["root_name"] == "agent.run"
    assert summary["root_span_id"] == f"{ids['agent.run']:016x}"
    assert summary["service_name"] == service
    assert summary["span_count"] == 4
    assert summary["error_count"] == 1
    by_sdk = {s.name: s for s in spans}
    root_sdk = by_sdk["agent.run"]
    assert summary["start_time_unix_nano"] == root_sdk.start_time
    assert summary["end_time_unix_nano"] == root_sdk.end_time
    assert summary["duration_ns"] == root_sdk.end_time - root_sdk.start_time

    # Shape: one root with its four children in start order; nothing orphaned or cyclic.
    assert len(tree["roots"]) == 1
    root = tree["roots"][0]
    assert [c["name"] for c in root["children"]] == ["llm.call", "tool.search", "crowded"]
    assert len(flatten(tree["roots"])) == 4
    nodes = {n["name"]: n for n in flatten(tree["roots"])}
    for node in flatten(tree["roots"]):
        sdk = by_sdk[node["name"]]
        assert node["span_id"] == f"{sdk.context.span_id:016x}"
        expected_parent = f"{sdk.parent.span_id:016x}" if sdk.parent else None
        assert node["parent_span_id"] == expected_parent
        assert node["start_time_unix_nano"] == sdk.start_time
        assert node["end_time_unix_nano"] == sdk.end_time
        assert node["service_name"] == service
        assert node["orphan"] is False
        assert node["cycle"] is False
        assert node["truncated_attributes"] == []

    # Kinds and statuses.
    assert {n: nodes[n]["kind"] for n in nodes} == {
        "agent.run": "server",
        "llm.call": "client",
        "tool.search": "producer",
        "crowded": "consumer",
    }
    assert root["status"] == {"code": "ok", "message": ""}
    assert nodes["llm.call"]["status"] == {"code": "error", "message": "rate limited"}
    assert nodes["tool.search"]["status"] == {"code": "unset", "message": ""}

    # Every AnyValue type, exactly.
    assert root["attributes"] == {k: expected_json(v) for k, v in ALL_TYPES.items()}

    # Events, an exception event with type, message and stacktrace.
    (prompt,) = nodes["llm.call"]["events"]
    assert prompt["name"] == "prompt.sent"
    assert prompt["attributes"] == {"tokens": 12, "preview": "Hello"}
    assert prompt["time_unix_nano"] == by_sdk["llm.call"].events[0].timestamp
    (exception,) = nodes["tool.search"]["events"]
    assert exception["name"] == "exception"
    attrs = exception["attributes"]
    assert attrs["exception.type"] == "ValueError"
    assert attrs["exception.message"] == "the tool broke"
    assert "Traceback (most recent call last)" in attrs["exception.stacktrace"]
    assert 'raise ValueError("the tool broke")' in attrs["exception.stacktrace"]
    assert (
        attrs["exception.stacktrace"]
        == (by_sdk["tool.search"].events[0].attributes["exception.stacktrace"])
    )

    # Links.
    (link,) = nodes["tool.search"]["links"]
    assert link["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert link["span_id"] == "b7ad6b7169203331"
    assert link["attributes"] == {"link.reason": "follows", "link.n": 7}

    # Everything stored for one span, including what the tree leaves out.
    wire_flags = {
        span.name: span.flags
        for rs in encode_spans(spans).resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    }
    for name, sdk in by_sdk.items():
        detail = tracepond_server.get_json(
            f"/api/traces/{trace_hex}/spans/{sdk.context.span_id:016x}"
        )
        node = nodes[name]
        for key in ("span_id", "parent_span_id", "name", "kind", "status", "attributes"):
            assert detail[key] == node[key], key
        assert detail["trace_id"] == trace_hex
        assert detail["trace_state"] == "tracepond=t61rcWkgMzE"
        assert detail["flags"] == wire_flags[name]
        resource = detail["resource"]["attributes"]
        assert resource["service.name"] == service
        assert resource["deployment.environment"] == "test"
        assert resource["telemetry.sdk.language"] == "python"
        assert detail["scope"]["name"] == "tracepond.tests.agent"
        assert detail["scope"]["version"] == "1.2.3"
        assert detail["scope"]["attributes"] == {"scope.attr": "scoped"}
        assert detail["dropped_attributes_count"] == sdk.dropped_attributes
        assert detail["dropped_events_count"] == sdk.dropped_events
        assert detail["dropped_links_count"] == sdk.dropped_links

    crowded = tracepond_server.get_json(f"/api/traces/{trace_hex}/spans/{ids['crowded']:016x}")
    assert len(crowded["attributes"]) == 40
    assert crowded["dropped_attributes_count"] == 5
    assert [e["name"] for e in crowded["events"]] == ["e4", "e5", "e6"]
    assert crowded["dropped_events_count"] == 4
    assert len(crowded["links"]) == 2
    assert crowded["dropped_links_count"] == 3


def test_sdk_batches_of_many_traces_are_listed_newest_first(tracepond_server: Any) -> None:
    """A BatchSpanProcessor-sized export of many traces; the list API pages through all of them
    newest first with next_cursor."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "many-traces"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("many")
    future = 4_000_000_000_000_000_000  # the year 2096
    for i in range(30):
        tracer.start_span(f"trace-{i}", start_time=future + i).end(end_time=future + 100)
    spans = memory.get_finished_spans()
    export(http_exporter(tracepond_server, "gzip"), spans)

    wanted = {f"{s.context.trace_id:032x}": s.name for s in spans}
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = tracepond_server.get_json("/api/traces", **params)
        assert len(page["traces"]) <= 7
        seen.extend(page["traces"])
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    ours = [t for t in seen if t["trace_id"] in wanted]
    # These start in the far future, so they are the newest traces: the first 30 listed.
    assert [t["root_name"] for t in seen[:30]] == [f"trace-{i}" for i in range(29, -1, -1)]
    assert len(ours) == 30
    assert len({t["trace_id"] for t in seen}) == len(seen)
    starts = [(t["start_time_unix_nano"], t["trace_id"]) for t in seen]
    assert starts == sorted(starts, reverse=True)
    assert pages >= 5


def test_current_trace_id_is_what_the_sdk_reports(tracepond_server: Any) -> None:
    """Ids cross the wire unchanged: the API's hex is the SDK's format_trace_id."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "ids"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("ids").start_as_current_span("ids") as span:
        trace_hex = trace_api.format_trace_id(span.get_span_context().trace_id)
        span_hex = trace_api.format_span_id(span.get_span_context().span_id)
    export(grpc_exporter(tracepond_server, "gzip"), memory.get_finished_spans())
    detail = tracepond_server.get_json(f"/api/traces/{trace_hex}/spans/{span_hex}")
    assert (detail["trace_id"], detail["span_id"], detail["name"]) == (trace_hex, span_hex, "ids")
