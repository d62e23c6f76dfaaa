"""What one span may hold, through real servers: over-long names and keys, long arrays, many
attributes and over-budget spans are cut (and reported in ``truncated_attributes`` and the
``dropped_*_count`` fields), never failing the request nor the database."""

from __future__ import annotations

import time
from typing import Any

import grpc
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ingest.otlp_build import key_values, make_request, make_span, span_id, trace_id

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
MARK = "…[truncated by tracepond]"
HUGE = 30 * 1000 * 1000  # 30 MB: under the default 32 MiB body limit
DEFAULT_NAME_BYTES = 4 * 1024

# The small limits of the ``bounded`` server.
NAME_BYTES = 64
SPAN_BYTES = 64 * 1024
ARRAY_ITEMS = 10
MAP_ENTRIES = 20


@pytest.fixture(scope="module")
def bounded(launch_shared_tracepond: Any) -> Any:
    return launch_shared_tracepond(
        "--max-name-bytes",
        str(NAME_BYTES),
        "--max-span-attribute-bytes",
        str(SPAN_BYTES),
        "--max-array-items",
        str(ARRAY_ITEMS),
        "--max-span-attributes",
        str(MAP_ENTRIES),
        "--max-attribute-bytes",
        str(16 * 1024),
    )


def grpc_export(address: str, body: bytes) -> ExportTraceServiceResponse:
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(address, options=options) as channel:
        raw = channel.unary_unary(EXPORT)(body, timeout=120)
    return ExportTraceServiceResponse.FromString(raw)


def post(server: Any, spans: list[Span], transport: str = "http") -> None:
    body = make_request(spans).SerializeToString()
    if transport == "grpc":
        response = grpc_export(server.grpc, body)
        assert not response.partial_success.rejected_spans
        return
    answer = server.post_otlp(body)
    assert answer.status_code == 200, answer.text


def stored_span(server: Any, trace: bytes, span: bytes) -> dict[str, Any]:
    return server.get_json(f"/api/traces/{trace.hex()}/spans/{span.hex()}")  # type: ignore[no-any-return]


def assert_serving(server: Any, trace: bytes) -> None:
    """The trace list and the trace itself still answer 200."""
    assert server.get("/api/traces").status_code == 200
    assert server.get(f"/api/traces/{trace.hex()}").status_code == 200


# -- 30 MB names and keys (default limits) ---------------------------------------------------


def test_huge_key_is_cut_and_reported_http(tracepond_server: Any) -> None:
    trace, sid = trace_id(), span_id()
    post(tracepond_server, [make_span(trace, sid, "k", attributes={"k" * HUGE: "v"})])
    span = stored_span(tracepond_server, trace, sid)
    cut_key = "k" * DEFAULT_NAME_BYTES + MARK
    assert span["attributes"] == {cut_key: "v"}
    assert cut_key in span["truncated_attributes"]
    assert_serving(tracepond_server, trace)


def test_huge_span_name_is_cut_and_reported_grpc(tracepond_server: Any) -> None:
    trace, sid = trace_id(), span_id()
    post(tracepond_server, [make_span(trace, sid, "n" * HUGE)], transport="grpc")
    span = stored_span(tracepond_server, trace, sid)
    assert span["name"] == "n" * DEFAULT_NAME_BYTES + MARK
    assert span["truncated_attributes"] == ["@name"]
    assert_serving(tracepond_server, trace)


def test_huge_event_name_is_cut_and_reported_json(tracepond_server: Any) -> None:
    trace, sid = trace_id(), span_id()
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": trace.hex(),
                                "spanId": sid.hex(),
                                "name": "with event",
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000000001000",
                                "events": [{"name": "e" * HUGE, "timeUnixNano": "1"}],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    answer = tracepond_server.post_otlp(orjson.dumps(body), "application/json")
    assert answer.status_code == 200, answer.text
    span = stored_span(tracepond_server, trace, sid)
    cut_name = "e" * DEFAULT_NAME_BYTES + MARK
    assert [event["name"] for event in span["events"]] == [cut_name]
    assert span["truncated_attributes"] == [f"event:{cut_name}:@name"]
    assert_serving(tracepond_server, trace)


# -- two large valid requests, then an idle checkpoint ----------------------------------------


def test_large_spans_then_idle_checkpoint_leave_the_server_working(start_tracepond: Any) -> None:
    """A 28.6 MiB array of 3 KB strings (as chat messages, which the span's view repeats), then
    16 MiB of attributes, then the idle checkpoint: the database must still take writes and
    answer reads. With no bound on a span, the first row alone was more than DuckDB's 64 MB
    could insert: that request failed (503) on every retry."""
    server = start_tracepond("--decode-workers", "0")
    first, second, third = trace_id(), trace_id(), trace_id()
    messages = [f"{i:05}" + "d" * 2995 for i in range(10_000)]
    chat = {"gen_ai.operation.name": "chat", "gen_ai.input.messages": messages}
    post(server, [make_span(first, span_id(), "chat", attributes=chat)])
    wide = {f"part{i:02}": chr(ord("a") + i) * (1024 * 1024) for i in range(16)}
    post(server, [make_span(second, span_id(), "wide", attributes=wide)])
    time.sleep(5)  # the writer checkpoints once idle (after 2 s)
    post(server, [make_span(third, span_id(), "after")])
    for trace in (first, second, third):
        assert_serving(server, trace)
    assert len(server.all_traces()) == 3
    assert "failed" not in server.stderr()


# -- the per-span limits (small limits) -------------------------------------------------------


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_long_array_keeps_its_first_items(bounded: Any, transport: str) -> None:
    trace, sid = trace_id(), span_id()
    attributes = {"ids": list(range(ARRAY_ITEMS + 5)), "map": {f"k{i}": i for i in range(15)}}
    post(bounded, [make_span(trace, sid, "arrays", attributes=attributes)], transport)
    span = stored_span(bounded, trace, sid)
    assert span["attributes"]["ids"] == list(range(ARRAY_ITEMS))
    assert span["attributes"]["map"] == {f"k{i}": i for i in range(ARRAY_ITEMS)}
    assert span["truncated_attributes"] == ["ids", "map"]


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_attributes_past_the_count_are_dropped_and_counted(bounded: Any, transport: str) -> None:
    trace, sid = trace_id(), span_id()
    span = make_span(trace, sid, "many", attributes={f"a{i:02}": i for i in range(MAP_ENTRIES + 3)})
    span.dropped_attributes_count = 2  # the sender's own drops add up with ours
    post(bounded, [span], transport)
    stored = stored_span(bounded, trace, sid)
    assert stored["attributes"] == {f"a{i:02}": i for i in range(MAP_ENTRIES)}
    assert stored["dropped_attributes_count"] == 2 + 3
    assert stored["truncated_attributes"] == [f"dropped:a{i:02}" for i in range(MAP_ENTRIES, 23)]


def test_long_keys_and_names_are_cut_at_the_name_limit(bounded: Any) -> None:
    trace, sid = trace_id(), span_id()
    span = make_span(trace, sid, "s" * 100, attributes={"k" * 100: "v", "short": "x"})
    event = span.events.add(name="e" * 100, time_unix_nano=1)
    event.attributes.extend(key_values({"q" * 100: 1}))
    post(bounded, [span])
    stored = stored_span(bounded, trace, sid)
    key, name, event_key = ("k" * 64 + MARK, "e" * 64 + MARK, "q" * 64 + MARK)
    assert stored["name"] == "s" * 64 + MARK
    assert stored["attributes"] == {key: "v", "short": "x"}
    assert stored["events"][0]["name"] == name
    assert stored["events"][0]["attributes"] == {event_key: 1}
    assert stored["truncated_attributes"] == [
        "@name",
        key,
        f"event:{name}:@name",
        f"event:{name}:{event_key}",
    ]


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_over_budget_span_loses_its_largest_attributes_first(bounded: Any, transport: str) -> None:
    trace, sid = trace_id(), span_id()
    attributes = {
        "gen_ai.request.model": "gpt-4o",
        "big1": "b" * 15_000,
        "huge": "h" * 16_000,
        "big2": "c" * 15_000,
        "small": "s" * 100,
    }
    span = make_span(trace, sid, "budget", attributes=attributes)
    for i in range(3):
        event = span.events.add(name=f"doc{i}", time_unix_nano=1)
        event.attributes.extend(key_values({"text": "t" * 14_000}))
    post(bounded, [span], transport)
    stored = stored_span(bounded, trace, sid)
    # 16 kB + 2x15 kB + 3x14 kB > 64 KiB: "huge" goes, then the first 15 kB one; the rest fits.
    assert stored["attributes"] == {
        "gen_ai.request.model": "gpt-4o",
        "big2": "c" * 15_000,
        "small": "s" * 100,
    }
    assert stored["dropped_attributes_count"] == 2
    assert [event["attributes"] for event in stored["events"]] == [{"text": "t" * 14_000}] * 3
    assert stored["truncated_attributes"] == ["dropped:huge", "dropped:big1"]
    size = sum(len(orjson.dumps(stored[part])) for part in ("attributes", "events", "links"))
    assert size <= SPAN_BYTES


def test_over_budget_span_drops_its_last_events(bounded: Any) -> None:
    trace, sid = trace_id(), span_id()
    span = make_span(trace, sid, "chatty")
    for i in range(1000):
        span.events.add(name=f"event-{i:03}-" + "x" * 40, time_unix_nano=i + 1)
    span.dropped_events_count = 1
    post(bounded, [span])
    stored = stored_span(bounded, trace, sid)
    kept = len(stored["events"])
    assert 0 < kept < 1000
    assert [e["name"][:9] for e in stored["events"]] == [f"event-{i:03}" for i in range(kept)]
    assert stored["dropped_events_count"] == 1 + 1000 - kept
    assert stored["truncated_attributes"][0] == "dropped:event:event-999-" + "x" * 40
    assert len(orjson.dumps(stored["events"])) <= SPAN_BYTES


def test_resource_over_budget_is_cut_and_reported_on_its_spans(bounded: Any) -> None:
    trace, sid = trace_id(), span_id()
    resource = {"blob": "r" * 16_000, **{f"r{i}": "v" * 4_000 for i in range(15)}}
    body = make_request([make_span(trace, sid, "s")], resource=resource).SerializeToString()
    answer = bounded.post_otlp(body)
    assert answer.status_code == 200, answer.text
    stored = stored_span(bounded, trace, sid)
    assert "blob" not in stored["resource"]["attributes"]
    assert stored["resource"]["dropped_attributes_count"] >= 1
    assert "dropped:resource:blob" in stored["truncated_attributes"]
    assert len(orjson.dumps(stored["resource"]["attributes"])) <= SPAN_BYTES
