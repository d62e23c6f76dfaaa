"""OTLP/JSON requests written by hand (tests/fixtures/otlp_json/), posted to a real server with
Content-Type application/json; the stored result is compared field by field with a hand-written
expectation, and the response is checked to be JSON in the request's encoding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from ingest.otlp_build import flatten, make_request, make_span, span_id, trace_id

FIXTURES = Path(__file__).parent.parent / "fixtures" / "otlp_json"
REASONS = {
    "invalid trace_id": 2,
    "invalid span_id": 3,
    "missing name": 1,
    "end_time_unix_nano before start_time_unix_nano": 1,
}


def tree_shape(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    return {node["span_id"]: tree_shape(node["children"]) for node in nodes}


def test_golden_full_trace_is_stored_field_by_field(tracepond_server: Any) -> None:
    body = (FIXTURES / "full_trace.json").read_bytes()
    expected = json.loads((FIXTURES / "full_trace.expected.json").read_text())
    response = tracepond_server.post_otlp(body, "application/json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {}

    tree = tracepond_server.trace(expected["trace_id"])
    assert tree is not None
    assert tree["trace_id"] == expected["trace_id"]
    assert tree["summary"] == expected["summary"]
    assert tree_shape(tree["roots"]) == expected["tree"]
    nodes = {n["span_id"]: n for n in flatten(tree["roots"])}
    for sid, want in expected["spans"].items():
        detail = tracepond_server.get_json(f"/api/traces/{expected['trace_id']}/spans/{sid}")
        assert sorted(detail) == sorted(want), sid
        for key, value in want.items():
            assert detail[key] == value, (sid, key)
            # The tree node carries the same values for the fields it has.
            if key in nodes[sid] and key != "children":
                assert nodes[sid][key] == value, (sid, key)
        assert type(detail["attributes"].get("double_int", 0.0)) is float
        assert nodes[sid]["orphan"] is False
        assert nodes[sid]["cycle"] is False


def test_golden_partial_success_rejects_invalid_spans_one_by_one(tracepond_server: Any) -> None:
    body = (FIXTURES / "partial_invalid.json").read_bytes()
    response = tracepond_server.post_otlp(body, "application/json; charset=utf-8")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert set(document) == {"partialSuccess"}
    partial = document["partialSuccess"]
    # int64 in OTLP/JSON is a string.
    assert partial["rejectedSpans"] == "7"
    message = partial["errorMessage"]
    assert message.startswith("rejected 7 invalid span(s)")
    for reason, count in REASONS.items():
        assert f"{count} {reason}" in message, message

    tree = tracepond_server.trace("a1" * 16)
    assert tree is not None
    assert tree["summary"]["span_count"] == 2
    assert [n["name"] for n in flatten(tree["roots"])] == ["valid.root", "valid.child"]
    for rejected in ("b2", "b3", "b5", "b7", "b8"):
        response = tracepond_server.get(f"/api/traces/{'a1' * 16}/spans/{rejected * 8}")
        assert response.status_code == 404
    assert tracepond_server.trace("00" * 16) is None


def test_golden_request_sent_twice_is_stored_once(tracepond_server: Any) -> None:
    body = (FIXTURES / "full_trace.json").read_bytes()
    for _ in range(2):
        response = tracepond_server.post_otlp(body, "application/json")
        assert response.status_code == 200
        assert response.json() == {}
    tree = tracepond_server.trace("5b8efff798038103d269b633813fc60c")
    assert tree["summary"]["span_count"] == 3
    assert len(flatten(tree["roots"])) == 3


def test_int64_as_numbers_and_strings_and_enums_as_ints(tracepond_server: Any) -> None:
    trace = trace_id().hex()
    root, child = span_id().hex(), span_id().hex()
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "json-nums"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "s"},
                        "spans": [
                            {
                                "traceId": trace,
                                "spanId": root,
                                "name": "numbers",
                                "kind": 5,
                                "startTimeUnixNano": 1700000000000000001,
                                "endTimeUnixNano": "1700000000000000009",
                                "attributes": [
                                    {"key": "n", "value": {"intValue": 7}},
                                    {"key": "s", "value": {"intValue": "-7"}},
                                ],
                                "status": {"code": 2, "message": "x"},
                                "droppedAttributesCount": "5",
                                "droppedEventsCount": 6,
                            },
                            {
                                "traceId": trace.upper(),
                                "spanId": child.upper(),
                                "parentSpanId": root,
                                "name": "enum names work too",
                                "kind": "SPAN_KIND_CLIENT",
                                "startTimeUnixNano": "1700000000000000002",
                                "endTimeUnixNano": 1700000000000000003,
                                "status": {"code": "STATUS_CODE_OK"},
                            },
                        ],
                    }
                ],
            }
        ]
    }
    response = tracepond_server.post_otlp(json.dumps(document).encode(), "application/json")
    assert response.status_code == 200, response.text
    assert response.json() == {}
    detail = tracepond_server.get_json(f"/api/traces/{trace}/spans/{root}")
    assert detail["kind"] == "consumer"
    assert detail["start_time_unix_nano"] == 1700000000000000001
    assert detail["end_time_unix_nano"] == 1700000000000000009
    assert detail["attributes"] == {"n": 7, "s": -7}
    assert detail["status"] == {"code": "error", "message": "x"}
    assert detail["dropped_attributes_count"] == 5
    assert detail["dropped_events_count"] == 6
    child_detail = tracepond_server.get_json(f"/api/traces/{trace}/spans/{child}")
    assert child_detail["kind"] == "client"
    assert child_detail["status"]["code"] == "ok"
    assert child_detail["parent_span_id"] == root


def test_empty_json_request_is_accepted(tracepond_server: Any) -> None:
    before = tracepond_server.all_traces()
    for body in (b"{}", b'{"resourceSpans": []}', b'{"resourceSpans": [{"scopeSpans": []}]}'):
        response = tracepond_server.post_otlp(body, "application/json")
        assert response.status_code == 200
        assert response.json() == {}
    assert tracepond_server.all_traces() == before


def test_protobuf_partial_success_is_protobuf(tracepond_server: Any) -> None:
    """The same semantics in the protobuf encoding: the response is an
    ExportTraceServiceResponse with partial_success, and the valid spans are stored."""
    trace = trace_id()
    good = span_id()
    spans = [
        make_span(trace, good, "good"),
        make_span(trace, b"\x01" * 7, "seven-byte-span-id"),
        make_span(b"\x02" * 15, span_id(), "fifteen-byte-trace-id"),
        make_span(trace, span_id(), ""),
        make_span(trace, span_id(), "backwards", start=2_000, end=1_000),
        make_span(trace, span_id(), "zero-parent", parent=bytes(8)),
        make_span(trace, span_id(), "no-start", start=0, end=0),
    ]
    response = tracepond_server.post_otlp(make_request(spans).SerializeToString())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_spans == 6
    message = parsed.partial_success.error_message
    for reason in (
        "1 invalid span_id",
        "1 invalid trace_id",
        "1 missing name",
        "1 end_time_unix_nano before start_time_unix_nano",
        "1 invalid parent_span_id",
        "1 missing start_time_unix_nano",
    ):
        assert reason in message, message
    tree = tracepond_server.trace(trace.hex())
    assert [n["name"] for n in flatten(tree["roots"])] == ["good"]
    assert tree["summary"]["span_count"] == 1


def test_all_spans_invalid_stores_nothing(tracepond_server: Any) -> None:
    before = tracepond_server.all_traces()
    trace = trace_id()
    spans = [make_span(trace, span_id(), ""), make_span(trace, bytes(8), "zero")]
    response = tracepond_server.post_otlp(make_request(spans).SerializeToString())
    assert response.status_code == 200
    parsed = ExportTraceServiceResponse.FromString(response.content)
    assert parsed.partial_success.rejected_spans == 2
    assert tracepond_server.trace(trace.hex()) is None
    assert tracepond_server.all_traces() == before


def test_json_error_response_is_json(tracepond_server: Any) -> None:
    response = tracepond_server.post_otlp(b'{"resourceSpans": [', "application/json")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["code"] == 3
    assert "malformed JSON" in body["message"]
    # ...and the protobuf encoding answers with a google.rpc.Status.
    response = tracepond_server.post_otlp(b"\xff\xff\xff\xff")
    assert response.status_code == 400
    status = status_pb2.Status.FromString(response.content)
    assert status.code == 3
    assert "malformed OTLP protobuf" in status.message
