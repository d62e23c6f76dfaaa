"""A full write queue: the receivers refuse with HTTP 503 + Retry-After / gRPC UNAVAILABLE, the
refused request stores nothing, and every accepted request is stored whole.

With ``--max-queued-spans 1`` a request is refused whenever another one is already waiting for
the writer (an empty queue always admits one batch), so concurrent senders of slow-to-commit
requests provoke refusals. The test repeats rounds until it has seen one (bounded), and checks
every response of every round, so it never depends on how many are refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import httpx
import pytest
from google.rpc import status_pb2

from ingest.otlp_build import make_request, make_span, span_id, trace_id

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
SENDERS = 12
MAX_ROUNDS = 25


@pytest.fixture(scope="module")
def tiny_queue(launch_shared_tracepond: Any) -> Any:
    return launch_shared_tracepond("--max-queued-spans", "1")


def heavy_request() -> tuple[str, int, bytes]:
    """One trace of 300 spans with 2 KB attributes each: cheap to decode, slow to commit."""
    trace = trace_id()
    root = span_id()
    spans = [make_span(trace, root, "root", attributes={"blob": "r" * 2048})]
    spans += [
        make_span(trace, span_id(), f"s{i}", parent=root, attributes={"blob": f"{i}" * 2048})
        for i in range(299)
    ]
    return trace.hex(), len(spans), make_request(spans).SerializeToString()


def check_outcomes(server: Any, outcomes: list[tuple[str, int, str]]) -> None:
    """Accepted: every span stored. Refused: nothing stored."""
    for trace, count, outcome in outcomes:
        tree = server.trace(trace)
        if outcome == "accepted":
            assert tree is not None, trace
            assert tree["summary"]["span_count"] == count
        else:
            assert tree is None, f"refused request {trace} was (partly) stored"


def flood_until_refused(
    server: Any, make_request: Callable[[], tuple[str, int, bytes]], content_type: str
) -> tuple[list[tuple[str, int, str]], list[httpx.Response]]:
    """Rounds of SENDERS simultaneous requests until one is refused (or MAX_ROUNDS pass);
    returns every request's (trace, span count, outcome) and the refused responses."""
    outcomes: list[tuple[str, int, str]] = []
    refused: list[httpx.Response] = []
    lock = threading.Lock()
    client = httpx.Client(
        base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=SENDERS)
    )

    def send(request: tuple[str, int, bytes], barrier: threading.Barrier) -> None:
        trace, count, body = request
        barrier.wait()
        response = client.post("/v1/traces", content=body, headers={"Content-Type": content_type})
        assert response.status_code in (200, 503), response.text
        with lock:
            accepted = response.status_code == 200
            outcomes.append((trace, count, "accepted" if accepted else "refused"))
            if not accepted:
                refused.append(response)

    try:
        with ThreadPoolExecutor(SENDERS) as pool:
            for _ in range(MAX_ROUNDS):
                requests = [make_request() for _ in range(SENDERS)]
                barrier = threading.Barrier(SENDERS)
                for future in [pool.submit(send, r, barrier) for r in requests]:
                    future.result()
                if refused:
                    break
    finally:
        client.close()
    return outcomes, refused


def test_http_queue_full_503_with_retry_after(tiny_queue: Any) -> None:
    outcomes, refusals = flood_until_refused(tiny_queue, heavy_request, "application/x-protobuf")
    assert refusals, f"no 503 in {MAX_ROUNDS} rounds of {SENDERS} concurrent requests"
    for response in refusals:
        assert int(response.headers["Retry-After"]) >= 1
        status = status_pb2.Status.FromString(response.content)
        assert status.code == 14  # UNAVAILABLE
        assert "queue full" in status.message
    assert any(outcome == "accepted" for _, _, outcome in outcomes)
    check_outcomes(tiny_queue, outcomes)


def heavy_json_request() -> tuple[str, int, bytes]:
    """The OTLP/JSON counterpart of heavy_request (hex ids, int64 as strings)."""
    trace, root = trace_id().hex(), span_id().hex()
    spans = [
        {
            "traceId": trace,
            "spanId": root if i == 0 else span_id().hex(),
            "parentSpanId": "" if i == 0 else root,
            "name": f"s{i}",
            "startTimeUnixNano": "1700000000000000000",
            "endTimeUnixNano": "1700000000000001000",
            "attributes": [{"key": "blob", "value": {"stringValue": f"{i}" * 6144}}],
        }
        for i in range(100)
    ]
    document = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    return trace, len(spans), json.dumps(document).encode()


def test_http_json_queue_full_answers_json(tiny_queue: Any) -> None:
    """The JSON encoding is refused the same way, with a JSON Status body."""
    outcomes, refused = flood_until_refused(tiny_queue, heavy_json_request, "application/json")
    assert refused, f"no 503 in {MAX_ROUNDS} rounds"
    for response in refused:
        assert response.headers["content-type"].startswith("application/json")
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["code"] == 14
        assert "queue full" in response.json()["message"]
    check_outcomes(tiny_queue, outcomes)


def test_grpc_queue_full_unavailable(tiny_queue: Any) -> None:
    outcomes: list[tuple[str, int, str]] = []
    refused: list[grpc.RpcError] = []
    with grpc.insecure_channel(tiny_queue.grpc) as channel:
        call = channel.unary_unary(EXPORT)
        for _ in range(MAX_ROUNDS):
            requests = [heavy_request() for _ in range(SENDERS)]
            futures = [call.future(body, timeout=60) for _, _, body in requests]
            for (trace, count, _), future in zip(requests, futures, strict=True):
                try:
                    future.result()
                    outcomes.append((trace, count, "accepted"))
                except grpc.RpcError as exc:
                    assert exc.code() is grpc.StatusCode.UNAVAILABLE, exc
                    assert "queue full" in exc.details()
                    outcomes.append((trace, count, "refused"))
                    refused.append(exc)
            if refused:
                break
    assert refused, f"no UNAVAILABLE in {MAX_ROUNDS} rounds"
    check_outcomes(tiny_queue, outcomes)


def test_grpc_calls_beyond_stream_limit_wait(launch_shared_tracepond: Any) -> None:
    """A client with more calls in flight on one connection than the server's stream limit (4)
    waits for a free stream: none of them is refused (RST_STREAM REFUSED_STREAM, UNAVAILABLE)
    when the queue has room, on a fresh connection or one in use."""
    server = launch_shared_tracepond()
    outcomes: list[tuple[str, int, str]] = []
    for _ in range(3):
        with grpc.insecure_channel(server.grpc) as channel:
            call = channel.unary_unary(EXPORT)
            for _ in range(2):
                requests = [heavy_request() for _ in range(SENDERS)]
                futures = [call.future(body, timeout=60) for _, _, body in requests]
                for (trace, count, _), future in zip(requests, futures, strict=True):
                    future.result()
                    outcomes.append((trace, count, "accepted"))
    check_outcomes(server, outcomes)
