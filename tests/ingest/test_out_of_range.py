"""Values out of their stored type's range never fail a request: a span whose kind or status
code is not an OTLP value is rejected on its own (``partial_success``) while its siblings are
stored; token counts past int64 saturate, and so do trace totals, across requests too. Over
OTLP/HTTP (protobuf and JSON) and gRPC, with decode workers and with ``--decode-workers 0``."""

from __future__ import annotations

from typing import Any

import grpc
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ingest.otlp_build import flatten, make_request, make_span, span_id, trace_id

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
INT64_MAX = 2**63 - 1
LLM = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}


@pytest.fixture(scope="module")
def inline_server(launch_shared_tracepond: Any) -> Any:
    return launch_shared_tracepond("--decode-workers", "0")


@pytest.fixture(params=["workers", "inline"])
def server(request: pytest.FixtureRequest, tracepond_server: Any, inline_server: Any) -> Any:
    return tracepond_server if request.param == "workers" else inline_server


def export(server: Any, spans: list[Span], transport: str) -> ExportTraceServiceResponse:
    """Send ``spans`` in one request; the response must be a success (200 / OK)."""
    body = make_request(spans).SerializeToString()
    if transport == "grpc":
        with grpc.insecure_channel(server.grpc) as channel:
            raw = channel.unary_unary(EXPORT)(body, timeout=60)
        return ExportTraceServiceResponse.FromString(raw)
    answer = server.post_otlp(body)
    assert answer.status_code == 200, answer.text
    return ExportTraceServiceResponse.FromString(answer.content)


def span_ids_of(server: Any, trace: bytes) -> set[str]:
    tree = server.trace(trace.hex())
    return set() if tree is None else {node["span_id"] for node in flatten(tree["roots"])}


def summary_of(server: Any, trace: bytes) -> dict[str, Any]:
    tree = server.trace(trace.hex())
    assert tree is not None
    return tree["summary"]  # type: ignore[no-any-return]


def stored_span(server: Any, trace: bytes, span: bytes) -> dict[str, Any]:
    return server.get_json(f"/api/traces/{trace.hex()}/spans/{span.hex()}")  # type: ignore[no-any-return]


@pytest.mark.parametrize("transport", ["http", "grpc"])
@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("kind", 256, "kind out of range"),
        ("kind", -1, "kind out of range"),
        ("status", 256, "status.code out of range"),
        ("status", -1, "status.code out of range"),
    ],
)
def test_out_of_range_enum_rejects_one_span_and_keeps_its_siblings(
    server: Any, transport: str, field: str, value: int, reason: str
) -> None:
    trace, root, bad, sibling = trace_id(), span_id(), span_id(), span_id()
    odd = make_span(trace, bad, "odd", parent=root)
    if field == "kind":
        odd.kind = value  # type: ignore[assignment]
    else:
        odd.status.code = value  # type: ignore[assignment]
    spans = [make_span(trace, root, "root"), odd, make_span(trace, sibling, "ok", parent=root)]
    response = export(server, spans, transport)
    assert response.partial_success.rejected_spans == 1
    assert reason in response.partial_success.error_message
    stored = server.trace(trace.hex())
    assert stored is not None
    assert stored["roots"][0]["span_id"] == root.hex()
    assert [child["span_id"] for child in stored["roots"][0]["children"]] == [sibling.hex()]


@pytest.mark.parametrize("transport", ["http", "grpc"])
@pytest.mark.parametrize("tokens", ["99999999999999999999", 1e20, "1e30"])
def test_token_count_past_int64_saturates(server: Any, transport: str, tokens: Any) -> None:
    trace, big, sibling = trace_id(), span_id(), span_id()
    attributes = {**LLM, "gen_ai.usage.input_tokens": tokens, "gen_ai.usage.output_tokens": 5}
    spans = [
        make_span(trace, big, "chat m", attributes=attributes),
        make_span(trace, sibling, "other", parent=big),
    ]
    response = export(server, spans, transport)
    assert response.partial_success.rejected_spans == 0
    view = stored_span(server, trace, big)["view"]
    assert view["usage"]["input_tokens"] == INT64_MAX
    assert view["usage"]["total_tokens"] == INT64_MAX  # input + output saturates too
    assert summary_of(server, trace)["input_tokens"] == INT64_MAX


def test_token_totals_near_int64_max_across_two_requests(server: Any) -> None:
    """Two leaf LLM calls of one trace, sent apart: the trace total saturates. It used to
    overflow the BIGINT column on the second commit, failing it (503) on every retry."""
    trace, first, second = trace_id(), span_id(), span_id()
    near = {**LLM, "gen_ai.usage.input_tokens": INT64_MAX - 10, "gen_ai.usage.output_tokens": 1}
    export(server, [make_span(trace, first, "chat 1", attributes=near)], "http")
    more = {**LLM, "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 1}
    export(server, [make_span(trace, second, "chat 2", attributes=more)], "grpc")
    summary = summary_of(server, trace)
    assert summary["input_tokens"] == INT64_MAX
    assert summary["total_tokens"] == INT64_MAX
    assert summary["span_count"] == 2
    assert server.get("/api/traces").status_code == 200
    # A third request to the same trace still commits.
    export(server, [make_span(trace, span_id(), "after", parent=first)], "http")
    assert server.trace(trace.hex()) is not None


def _json_span(trace: bytes, span: bytes, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "traceId": trace.hex(),
        "spanId": span.hex(),
        "name": name,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000000001000",
        **fields,
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": 256},
        {"status": {"code": 256}},
        {"kind": 2**31},
        {"flags": 2**32},
        {"droppedAttributesCount": 2**32},
        {"attributes": [{"key": "n", "value": {"intValue": "99999999999999999999"}}]},
    ],
    ids=["kind", "status", "kind-past-int32", "flags", "dropped", "int-value"],
)
def test_json_out_of_range_rejects_one_span_and_keeps_its_siblings(
    server: Any, fields: dict[str, Any]
) -> None:
    trace, bad, good = trace_id(), span_id(), span_id()
    spans = [_json_span(trace, bad, "odd", **fields), _json_span(trace, good, "ok")]
    body = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    answer = server.post_otlp(orjson.dumps(body), "application/json")
    assert answer.status_code == 200, answer.text
    assert answer.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert span_ids_of(server, trace) == {good.hex()}
