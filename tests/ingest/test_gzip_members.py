"""Compressed OTLP/HTTP bodies: every gzip member is inflated (as Python's and Go's readers do;
concatenated protobuf messages merge, so both requests' spans are stored), and bytes after the
compressed data are refused rather than silently dropped."""

from __future__ import annotations

import gzip
import json
import zlib

from conftest import TracepondProcess
from ingest.otlp_build import make_request, make_span, span_id, trace_id

PROTOBUF = "application/x-protobuf"


def one_trace(name: str) -> tuple[str, bytes]:
    trace = trace_id()
    return trace.hex(), make_request([make_span(trace, span_id(), name)]).SerializeToString()


def post(server: TracepondProcess, body: bytes, encoding: str, media: str = PROTOBUF) -> int:
    response = server.post_otlp(body, media, **{"Content-Encoding": encoding})
    return response.status_code


def test_two_gzip_members_store_both_requests(tracepond_server: TracepondProcess) -> None:
    first, body1 = one_trace("first")
    second, body2 = one_trace("second")
    assert post(tracepond_server, gzip.compress(body1) + gzip.compress(body2), "gzip") == 200
    assert tracepond_server.trace(first) is not None
    assert tracepond_server.trace(second) is not None


def test_two_gzip_members_of_json_are_refused(tracepond_server: TracepondProcess) -> None:
    span = {
        "traceId": "ab" * 16,
        "spanId": "cd" * 8,
        "name": "j",
        "startTimeUnixNano": "1",
        "endTimeUnixNano": "2",
    }
    doc = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()
    status = post(
        tracepond_server, gzip.compress(doc) + gzip.compress(doc), "gzip", "application/json"
    )
    assert status == 400


def test_bytes_after_the_gzip_data_are_refused(tracepond_server: TracepondProcess) -> None:
    trace, body = one_trace("trailing")
    for trailer in (b"garbage", b"\x00" * 8, b"\x1f"):
        assert post(tracepond_server, gzip.compress(body) + trailer, "gzip") == 400, trailer
    assert tracepond_server.trace(trace) is None


def test_bytes_after_the_deflate_data_are_refused(tracepond_server: TracepondProcess) -> None:
    trace, body = one_trace("deflate")
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(body) + raw.flush()
    assert post(tracepond_server, zlib.compress(body) + b"extra", "deflate") == 400
    assert post(tracepond_server, raw_deflate + b"extra", "deflate") == 400
    assert tracepond_server.trace(trace) is None
    assert post(tracepond_server, raw_deflate, "deflate") == 200
    assert tracepond_server.trace(trace) is not None


def test_a_truncated_gzip_body_is_refused(tracepond_server: TracepondProcess) -> None:
    trace, body = one_trace("truncated")
    packed = gzip.compress(body)
    assert post(tracepond_server, packed[:-4], "gzip") == 400
    assert post(tracepond_server, packed + gzip.compress(body)[:10], "gzip") == 400
    assert tracepond_server.trace(trace) is None
