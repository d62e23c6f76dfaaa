"""Concurrent OTLP senders (HTTP/protobuf over keep-alive ``http.client``, raw gRPC) in threads.

Each sender takes the next request number from a shared counter, renders its body (one join) and
sends it. Only spans of requests answered with success count; refused requests (503 /
UNAVAILABLE, the server's back-pressure) are retried after a short pause like an OTLP exporter.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from _traces import SPANS_PER_TRACE, Template, TraceIds

GRPC_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_RETRYABLE_HTTP = {429, 502, 503, 504}


@dataclass
class SenderResult:
    acked_spans: int = 0
    rejected_spans: int = 0
    ok_requests: int = 0
    retried_requests: int = 0
    failed_requests: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)  # request numbers answered success
    last_ack: float = 0.0


class SendFailed(Exception):
    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def _accepted(response: bytes, spans: int) -> tuple[int, int]:
    parsed = ExportTraceServiceResponse.FromString(response)
    rejected = parsed.partial_success.rejected_spans
    return spans - rejected, rejected


# Sent with every request when the benchmark runs against a server with API keys (--auth):
# {"authorization": "Bearer <key>"}.
AUTH_HEADERS: dict[str, str] = {}


class HttpSender:
    def __init__(self, port: int) -> None:
        self._port = port
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def send(self, body: bytes) -> bytes:
        headers = {"Content-Type": "application/x-protobuf", **AUTH_HEADERS}
        try:
            self._conn.request("POST", "/v1/traces", body, headers)
            response = self._conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self._conn.close()
            self._conn = http.client.HTTPConnection("127.0.0.1", self._port, timeout=120)
            raise SendFailed(f"http: {exc!r}", retry=True) from exc
        if response.status != 200:
            raise SendFailed(
                f"http {response.status}: {data[:200]!r}", retry=response.status in _RETRYABLE_HTTP
            )
        return data

    def close(self) -> None:
        self._conn.close()


class GrpcSender:
    def __init__(self, port: int) -> None:
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
        )
        # No serializers: bytes go out and come back as they are.
        self._export = self._channel.unary_unary(GRPC_METHOD)

    def send(self, body: bytes) -> bytes:
        try:
            metadata = list(AUTH_HEADERS.items()) or None
            return bytes(self._export(body, timeout=120, metadata=metadata))
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            retry = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
            raise SendFailed(f"grpc {code}: {exc}", retry=retry) from exc

    def close(self) -> None:
        self._channel.close()


Sender = HttpSender | GrpcSender


def send_one(sender: Sender, body: bytes, spans: int, result: SenderResult, k: int) -> None:
    """Send one request until it is answered (retrying back-pressure), recording the outcome."""
    for attempt in range(60):
        started = time.perf_counter()
        try:
            data = sender.send(body)
        except SendFailed as exc:
            if exc.retry and attempt < 59:
                result.retried_requests += 1
                time.sleep(0.05 * min(attempt + 1, 10))
                continue
            result.failed_requests += 1
            if len(result.errors) < 10:
                result.errors.append(str(exc))
            return
        done = time.perf_counter()
        accepted, rejected = _accepted(data, spans)
        result.latencies.append(done - started)
        result.acked_spans += accepted
        result.rejected_spans += rejected
        result.ok_requests += 1
        result.acked.append(k)
        result.last_ack = done
        return


def run_senders(
    make_sender: Callable[[], Sender],
    templates: list[Template] | Callable[[int], Template],
    ids: TraceIds,
    first_request: int,
    requests: int,
    concurrency: int,
) -> list[SenderResult]:
    """Send requests ``first_request ..`` (``requests`` of them) from ``concurrency`` threads;
    request ``k`` renders ``templates(k)``, or of a list the ``k % len``-th."""
    numbers = itertools.count(first_request)
    end = first_request + requests
    results = [SenderResult() for _ in range(concurrency)]
    spans = ids.per_request * SPANS_PER_TRACE
    start_barrier = threading.Barrier(concurrency)

    def worker(result: SenderResult) -> None:
        sender = make_sender()
        try:
            start_barrier.wait()
            while (k := next(numbers)) < end:
                template = templates(k) if callable(templates) else templates[k % len(templates)]
                body = template.render(ids.for_request(k))
                send_one(sender, body, spans, result, k)
        finally:
            sender.close()

    threads = [
        threading.Thread(target=worker, args=(r,), name=f"sender-{i}")
        for i, r in enumerate(results)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
