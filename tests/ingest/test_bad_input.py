"""Every bad input, over HTTP and gRPC: each case checks the response AND that the store is
unchanged (the trace it carried is absent, the trace list is the same as before)."""

from __future__ import annotations

import base64
import gzip
import zlib
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from ingest.otlp_build import make_request, make_span, span_id, trace_id

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
LIMIT = 1024 * 1024  # --max-body-bytes of the limited server
ATTRIBUTE_LIMIT = 1000
TRUNCATION_MARK = "…[truncated by tracepond]"


@pytest.fixture(scope="module")
def limited(launch_shared_tracepond: Any) -> Any:
    return launch_shared_tracepond(
        "--max-body-bytes", str(LIMIT), "--max-attribute-bytes", str(ATTRIBUTE_LIMIT)
    )


def grpc_export(address: str, body: bytes, *, gzip_: bool = False) -> bytes:
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(address, options=options) as channel:
        call = channel.unary_unary(EXPORT)
        compression = grpc.Compression.Gzip if gzip_ else None
        return call(body, timeout=60, compression=compression)  # type: ignore[no-any-return]


def one_trace_request(*, attribute_bytes: int = 0) -> tuple[str, bytes]:
    """A valid request of one trace; returns its hex id and the serialized request."""
    trace = trace_id()
    attributes = {"payload": "p" * attribute_bytes} if attribute_bytes else {}
    root = span_id()
    spans = [
        make_span(trace, root, "root", attributes=attributes),
        make_span(trace, span_id(), "child", parent=root),
    ]
    return trace.hex(), make_request(spans).SerializeToString()


class Unchanged:
    """Snapshot of the trace list; ``check()`` asserts nothing was added or changed."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.before = server.all_traces()

    def check(self, *absent: str) -> None:
        for trace in absent:
            assert self.server.trace(trace) is None, f"trace {trace} was stored"
        assert self.server.all_traces() == self.before


@pytest.fixture
def unchanged(limited: Any) -> Iterator[Unchanged]:
    yield Unchanged(limited)


def rpc_status(response: Any) -> status_pb2.Status:
    assert response.headers["content-type"] == "application/x-protobuf"
    return status_pb2.Status.FromString(response.content)


# -- malformed -------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", ["garbage", "truncated", "wrong-wire-type"])
def test_malformed_protobuf_http_400(limited: Any, unchanged: Unchanged, cut: str) -> None:
    trace, body = one_trace_request()
    bad = {
        "garbage": b"\xff\xff\xff\xff\xff\xff",
        "truncated": body[: len(body) // 2],
        # field 1 (resource_spans, length-delimited) announced as a varint
        "wrong-wire-type": b"\x08" + body[1:],
    }[cut]
    response = limited.post_otlp(bad)
    assert response.status_code == 400
    status = rpc_status(response)
    assert status.code == 3  # INVALID_ARGUMENT
    assert "malformed OTLP protobuf" in status.message
    unchanged.check(trace)


def test_malformed_protobuf_grpc_invalid_argument(limited: Any, unchanged: Unchanged) -> None:
    trace, body = one_trace_request()
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(limited.grpc, body[: len(body) // 2])
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "malformed OTLP protobuf" in caught.value.details()
    unchanged.check(trace)


@pytest.mark.parametrize(
    "body",
    [
        b'{"resourceSpans": [',
        b"not json at all",
        b"",
        b"[]",
        b'"a string"',
        b'{"resourceSpans": "nope"}',
        b'{"resourceSpans": [{"scopeSpans": "nope"}]}',
        b'{"resourceSpans": [{"scopeSpans": [3]}]}',
    ],
    ids=["cut", "text", "empty", "array", "string", "wrong-type", "wrong-scopes", "bad-scope"],
)
def test_malformed_json_400(limited: Any, unchanged: Unchanged, body: bytes) -> None:
    response = limited.post_otlp(body, "application/json")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()
    assert error["code"] == 3
    assert error["message"]
    unchanged.check()


@pytest.mark.parametrize(
    "bad_field",
    ['"startTimeUnixNano": {"not": "a number"}', '"startTimeUnixNano": "soon"', '"name": 12'],
    ids=["object-int64", "bad-int64", "bad-name"],
)
def test_json_span_with_a_bad_field_is_rejected_alone(limited: Any, bad_field: str) -> None:
    """A span field of the wrong type rejects that span (partial_success), not the request:
    the valid span beside it is stored."""
    trace, good = trace_id().hex(), span_id().hex()
    body = (
        '{"resourceSpans": [{"scopeSpans": [{"spans": ['
        f'{{"traceId": "{trace}", "spanId": "{good}", "name": "ok",'
        ' "startTimeUnixNano": "1", "endTimeUnixNano": "2"},'
        f'{{"traceId": "{trace}", "spanId": "{span_id().hex()}", "name": "bad",'
        f" {bad_field}}}]}}]}}]}}"
    ).encode()
    response = limited.post_otlp(body, "application/json")
    assert response.status_code == 200, response.text
    assert response.json()["partialSuccess"]["rejectedSpans"] == "1"
    stored = limited.trace(trace)
    assert stored is not None
    assert [root["span_id"] for root in stored["roots"]] == [good]


# -- unsupported media -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/grpc", "multipart/form-data"]
)
def test_unsupported_content_type_415(
    limited: Any, unchanged: Unchanged, content_type: str
) -> None:
    trace, body = one_trace_request()
    response = limited.post_otlp(body, content_type)
    assert response.status_code == 415
    error = response.json()
    assert error["code"] == 3
    assert "unsupported Content-Type" in error["message"]
    unchanged.check(trace)


def test_missing_content_type_415(limited: Any, unchanged: Unchanged) -> None:
    trace, body = one_trace_request()
    response = limited.client.post("/v1/traces", content=body)
    assert response.status_code == 415
    unchanged.check(trace)


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_unsupported_content_encoding_415(
    limited: Any, unchanged: Unchanged, encoding: str
) -> None:
    trace, body = one_trace_request()
    response = limited.post_otlp(gzip.compress(body), **{"Content-Encoding": encoding})
    assert response.status_code == 415
    status = rpc_status(response)
    assert "unsupported Content-Encoding" in status.message
    unchanged.check(trace)


def test_corrupt_gzip_400(limited: Any, unchanged: Unchanged) -> None:
    trace, body = one_trace_request()
    compressed = gzip.compress(body)
    for bad in (compressed[: len(compressed) // 2], b"\x1f\x8b" + b"\x00" * 20, body):
        response = limited.post_otlp(bad, **{"Content-Encoding": "gzip"})
        assert response.status_code == 400
        assert rpc_status(response).code == 3
    unchanged.check(trace)


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
def test_deflate_both_flavours_accepted(limited: Any, wbits: int) -> None:
    trace, body = one_trace_request()
    compressor = zlib.compressobj(wbits=wbits)
    response = limited.post_otlp(
        compressor.compress(body) + compressor.flush(), **{"Content-Encoding": "deflate"}
    )
    assert response.status_code == 200, response.content
    assert limited.trace(trace)["summary"]["span_count"] == 2


# -- size limits -----------------------------------------------------------------------------


def test_body_over_limit_413(limited: Any, unchanged: Unchanged) -> None:
    trace, body = one_trace_request(attribute_bytes=LIMIT + 10)
    assert len(body) > LIMIT
    response = limited.post_otlp(body)
    assert response.status_code == 413
    status = rpc_status(response)
    assert status.code == 8  # RESOURCE_EXHAUSTED
    assert "limit" in status.message
    unchanged.check(trace)


def test_chunked_body_over_limit_413(limited: Any, unchanged: Unchanged) -> None:
    """Without Content-Length the receiver counts while reading."""
    trace, body = one_trace_request(attribute_bytes=LIMIT + 10)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = limited.client.post(
        "/v1/traces", content=chunks(), headers={"Content-Type": "application/x-protobuf"}
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    unchanged.check(trace)


def test_body_just_under_limit_is_accepted(limited: Any) -> None:
    trace, body = one_trace_request(attribute_bytes=LIMIT - 1000)
    assert LIMIT - 1000 < len(body) <= LIMIT
    response = limited.post_otlp(body)
    assert response.status_code == 200
    detail = limited.get_json(f"/api/traces/{trace}")
    # Over the attribute limit, so cut: but the request itself was within the body limit.
    assert detail["roots"][0]["truncated_attributes"] == ["payload"]


def gzip_bomb(uncompressed: int) -> bytes:
    """``uncompressed`` zero bytes, gzipped, built without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(uncompressed // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.mark.slow
def test_gzip_bomb_413_and_memory_stays_bounded(limited: Any, unchanged: Unchanged) -> None:
    bomb = gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < LIMIT  # passes the compressed-size check
    before = limited.memory_hwm_kib()
    for encoding in ("gzip", "deflate"):
        body = bomb if encoding == "gzip" else zlib.compress(bytes(16 * 1024 * 1024), 9)
        response = limited.post_otlp(body, **{"Content-Encoding": encoding})
        assert response.status_code == 413, encoding
        status = rpc_status(response)
        assert status.code == 8
        assert "decompressed body is over" in status.message
    after = limited.memory_hwm_kib()
    # Inflating the bomb would cost 200 MiB; bounded decompression costs about the limit.
    assert after - before < 64 * 1024, (before, after)
    assert limited.alive()
    unchanged.check()


@pytest.mark.slow
def test_grpc_message_over_limit_resource_exhausted(limited: Any, unchanged: Unchanged) -> None:
    """Over the limit uncompressed, and a gzip-compressed message that inflates past it (the
    compressed call is tiny: gRPC must bound the decompressed size)."""
    trace, body = one_trace_request(attribute_bytes=LIMIT + 10)
    before = limited.memory_hwm_kib()
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(limited.grpc, body)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    bomb_trace, bomb = one_trace_request(attribute_bytes=64 * 1024 * 1024)
    with pytest.raises(grpc.RpcError) as caught:
        grpc_export(limited.grpc, bomb, gzip_=True)
    assert caught.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    del bomb
    assert limited.memory_hwm_kib() - before < 64 * 1024
    unchanged.check(trace, bomb_trace)


# -- attributes ------------------------------------------------------------------------------


def test_long_attributes_truncated_at_the_configured_limit(limited: Any) -> None:
    trace, root = trace_id(), span_id()
    attributes = {
        "prompt": "x" * 5000,
        "at_limit": "y" * ATTRIBUTE_LIMIT,
        "short": "fine",
        "nested": {"inner": "z" * 2000, "ok": "ok"},
        "blob": b"\x01" * 3000,
        "history": ["a" * 1500, "b", "c" * 1500],
    }
    response = limited.post_otlp(
        make_request([make_span(trace, root, "big", attributes=attributes)]).SerializeToString()
    )
    assert response.status_code == 200
    detail = limited.get_json(f"/api/traces/{trace.hex()}/spans/{root.hex()}")
    stored = detail["attributes"]
    assert stored["prompt"] == "x" * ATTRIBUTE_LIMIT + TRUNCATION_MARK
    assert stored["at_limit"] == "y" * ATTRIBUTE_LIMIT
    assert stored["short"] == "fine"
    assert stored["nested"] == {"inner": "z" * ATTRIBUTE_LIMIT + TRUNCATION_MARK, "ok": "ok"}
    assert base64.b64decode(stored["blob"]["bytesValue"]) == b"\x01" * ATTRIBUTE_LIMIT
    assert stored["history"] == [
        "a" * ATTRIBUTE_LIMIT + TRUNCATION_MARK,
        "b",
        "c" * ATTRIBUTE_LIMIT + TRUNCATION_MARK,
    ]
    # Each cut attribute is named once, by its own (top-level) key.
    expected = ["blob", "history", "nested", "prompt"]
    assert sorted(detail["truncated_attributes"]) == expected
    node = limited.trace(trace.hex())["roots"][0]
    assert sorted(node["truncated_attributes"]) == expected


def test_two_megabyte_prompt_stored_whole(tracepond_server: Any) -> None:
    """Under the default 4 MiB attribute limit a 2 MB prompt comes back byte for byte."""
    trace, root = trace_id(), span_id()
    prompt = "".join(chr(0x20 + i % 90) for i in range(2 * 1024 * 1024))
    request = make_request([make_span(trace, root, "llm", attributes={"gen_ai.prompt": prompt})])
    response = tracepond_server.post_otlp(
        gzip.compress(request.SerializeToString()), **{"Content-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert (
        ExportTraceServiceResponse.FromString(response.content).partial_success.rejected_spans == 0
    )
    detail = tracepond_server.get_json(f"/api/traces/{trace.hex()}/spans/{root.hex()}")
    assert detail["attributes"]["gen_ai.prompt"] == prompt
    assert detail["truncated_attributes"] == []


# -- method and route ------------------------------------------------------------------------


def test_get_on_ingest_route_is_not_an_export(limited: Any, unchanged: Unchanged) -> None:
    response = limited.get("/v1/traces")
    assert response.status_code == 405
    unchanged.check()
