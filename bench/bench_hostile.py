"""What a hostile or careless client can make the server spend (issue 18).

Two phases against one ``tracepond serve`` on a fresh database, each reported with the peak
memory of the server and its decode workers (PSS, and summed RSS):

* **Concurrent large bodies.** ``--senders`` threads (32) each POST one ~``--body-mib`` (30 MiB)
  OTLP/HTTP protobuf body at the same moment, retrying 503 after its Retry-After like an OTLP
  exporter. Reported: peak memory, how many answers were 503, acknowledged spans, and whether
  every acknowledged span is stored.
* **Worst queries.** On a store of ~500 RAG spans (the issue's reproduction), each pathological
  query of ``QUERIES`` with its answer status, wall time and the server's peak memory while it
  ran; while each runs, another client's ``GET /api/traces?limit=1`` is timed alongside.

    .venv/bin/python bench/bench_hostile.py
    .venv/bin/python bench/bench_hostile.py --senders 8 --body-mib 10 --skip-queries

Results are printed and written to bench/results/hostile-<time>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import RssSampler, ServerProcess, _proc_kib, process_tree
from _traces import SPANS_PER_TRACE, TraceIds, build_template

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SPAN_PAYLOAD_BYTES = 60 * 1024

# (label, path, query string): the reproductions and their neighbours.
QUERIES: list[tuple[str, str, dict[str, str]]] = [
    # The reproductions (refused by the complexity limits since issue 18).
    ("12 x >> chain", "/api/spans", {"q": " >> ".join(["{}"] * 12)}),
    ("300 x && selectors", "/api/spans", {"q": " && ".join(["{}"] * 300)}),
    ("1000 x >> chain", "/api/traces", {"q": " >> ".join(["{}"] * 1000)}),
    ("regex lookahead", "/api/traces", {"q": '{ name =~ "(?=a)" }'}),
    ("string > number", "/api/traces", {"q": "{ resource.service.name > 1.5 }"}),
    ("duration 1e300h", "/api/traces", {"q": "{ duration > 1e300h }"}),
    (
        "jaeger minDuration 400 digits",
        "/jaeger/api/traces",
        {"service": "x", "minDuration": "9" * 400},
    ),
    # The heaviest queries the limits allow.
    ("5 x >> chain (4 relations)", "/api/spans", {"q": " >> ".join(["{}"] * 5)}),
    ("16 x && selectors", "/api/spans", {"q": " && ".join(["{}"] * 16)}),
    ("16 x || selectors", "/api/traces", {"q": " || ".join(['{ name =~ "a" }'] * 16)}),
    ("regex over attributes", "/api/spans", {"q": '{ span.input.value =~ "(a|e|i)+.*z" }'}),
    ("full text", "/api/spans", {"text": "lorem ipsum", "limit": "1000"}),
    ("stats by 1m, by model", "/api/stats", {"bucket": "1m", "group_by": "model"}),
    ("sessions", "/api/sessions", {"limit": "1000"}),
]


@dataclass
class LargeBodyResult:
    requests: int = 0
    acked: int = 0
    refused_503: int = 0
    other_errors: list[str] = field(default_factory=list)
    acked_trace_ids: list[str] = field(default_factory=list)


def large_body(trace_ids: list[bytes], target_bytes: int) -> tuple[bytes, int]:
    """One OTLP request of ~target_bytes: spans with a ~60 KiB string attribute each, one
    trace per span."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    request.resource_spans[0].resource.attributes.add(
        key="service.name"
    ).value.string_value = "hostile-bench"
    payload = ("lorem ipsum dolor sit amet " * (SPAN_PAYLOAD_BYTES // 27 + 1))[:SPAN_PAYLOAD_BYTES]
    now = time.time_ns()
    count = min(len(trace_ids), target_bytes // (SPAN_PAYLOAD_BYTES + 64) + 1)
    for index, trace_id in enumerate(trace_ids[:count]):
        span = scope.spans.add()
        span.trace_id = trace_id
        span.span_id = (index + 1).to_bytes(8, "big")
        span.name = "big span"
        span.start_time_unix_nano = now
        span.end_time_unix_nano = now + 1_000_000
        span.attributes.add(key="input.value").value.string_value = payload
    return request.SerializeToString(), count


def send_large(port: int, body: bytes, result: LargeBodyResult, barrier: threading.Barrier) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Content-Type": "application/x-protobuf"}
    barrier.wait()
    try:
        for _ in range(600):
            result.requests += 1
            try:
                conn.request("POST", "/v1/traces", body, headers)
                response = conn.getresponse()
                data = response.read()
            except OSError as exc:
                result.other_errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
                time.sleep(0.5)
                continue
            if response.status == 503:
                result.refused_503 += 1
                time.sleep(float(response.getheader("Retry-After") or "1"))
                continue
            if response.status != 200:
                result.other_errors.append(f"HTTP {response.status}: {data[:200]!r}")
                return
            parsed = ExportTraceServiceResponse.FromString(data)
            if parsed.partial_success.rejected_spans:
                result.other_errors.append(parsed.partial_success.error_message)
            result.acked += 1
            return
        result.other_errors.append("gave up after 600 attempts")
    finally:
        conn.close()


def send_small(port: int, trace_id: bytes) -> None:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    request.resource_spans[0].resource.attributes.add(
        key="service.name"
    ).value.string_value = "hostile-bench-after"
    span.trace_id = trace_id
    span.span_id = (1).to_bytes(8, "big")
    span.name = "small span"
    span.start_time_unix_nano = time.time_ns()
    span.end_time_unix_nano = span.start_time_unix_nano + 1_000_000
    status, body = _post(port, "/v1/traces", request.SerializeToString())
    if status != 200:
        raise RuntimeError(f"the small request after the burst: HTTP {status} {body[:200]!r}")


def _post(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def settle(db: Path, limit: float, quiet: float = 2.0) -> float:
    """Wait, at most ``limit`` seconds, until the server's idle checkpoint after the last request
    (due IDLE_CHECKPOINT_SECONDS after it) is over: the WAL nearly empty, and neither it nor the
    database file changed for ``quiet`` seconds. The seconds waited."""
    files = [db, Path(f"{db}.wal")]
    started = time.perf_counter()
    last: list[tuple[int, int]] = []
    still_since = started
    while (waited := time.perf_counter() - started) < limit:
        now = [_size_and_mtime(path) for path in files]
        if now != last:
            last, still_since = now, time.perf_counter()
        elif (
            waited > 3 + quiet
            and now[1][0] < 1024 * 1024
            and time.perf_counter() - still_since >= quiet
        ):
            return waited
        time.sleep(0.1)
    return waited


def _size_and_mtime(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_size, stat.st_mtime_ns)


def concurrent_large_bodies(
    server: ServerProcess, senders: int, body_mib: int, settle_seconds: float = 120
) -> dict[str, Any]:
    ids = TraceIds(1)
    bodies: list[bytes] = []
    span_counts: list[int] = []
    trace_number = 0
    for _ in range(senders):
        wanted = body_mib * 1024 * 1024 // SPAN_PAYLOAD_BYTES + 8
        trace_ids = [ids.trace_id(trace_number + i) for i in range(wanted)]
        body, spans = large_body(trace_ids, body_mib * 1024 * 1024)
        trace_number += spans
        bodies.append(body)
        span_counts.append(spans)
    sampler = RssSampler(server.pid, interval=0.02, pss_every=5)
    sampler.mark()
    sampler.start()
    before_mib = sampler.rss_mib()
    barrier = threading.Barrier(senders)
    results = [LargeBodyResult() for _ in range(senders)]
    started = time.perf_counter()
    threads = [
        threading.Thread(target=send_large, args=(server.http_port, body, result, barrier))
        for body, result in zip(bodies, results, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    peak_pss_acked = sampler.peak_pss_since_mark_mib()
    # DuckDB checkpoints only a database with changes: what the burst left for a checkpoint to
    # do (merging the row groups of its large values) is done at the first one after the next
    # write. One small span, then its idle checkpoint, are measured too.
    send_small(server.http_port, ids.trace_id(trace_number))
    settled = settle(server.db, settle_seconds)
    sampler.stop()
    acked_spans = sum(n for n, r in zip(span_counts, results, strict=True) if r.acked)
    stored = _stored_spans(server.http_port, "hostile-bench")
    return {
        "senders": senders,
        "body_bytes": [len(b) for b in bodies][:1],
        "seconds": round(elapsed, 2),
        "rss_before_mib": round(before_mib, 1),
        # Until the last acknowledgment; then on through one small request and the idle
        # checkpoint after it (what the burst left for a checkpoint to do is part of its cost).
        "peak_pss_acked_mib": round(peak_pss_acked, 1),
        "peak_pss_mib": round(sampler.peak_pss_since_mark_mib(), 1),
        "settle_seconds": round(settled, 1),
        "peak_rss_sum_mib": round(sampler.peak_since_mark_mib(), 1),
        # Each process's own high-water RSS (the server first, then its decode workers).
        "hwm_mib_per_process": [
            round(_proc_kib(pid, "status", "VmHWM") / 1024, 1) for pid in process_tree(server.pid)
        ],
        "requests_sent": sum(r.requests for r in results),
        "answers_503": sum(r.refused_503 for r in results),
        "acked_requests": sum(r.acked for r in results),
        "acked_spans": acked_spans,
        "stored_spans": stored,
        "errors": [e for r in results for e in r.other_errors][:10],
    }


def _stored_spans(port: int, service: str) -> int:
    """Spans stored for ``service`` (each of its traces is one span)."""
    query = urllib.parse.urlencode({"service": service, "limit": 1})
    status, body = _get(port, f"/api/traces?{query}")
    if status != 200:
        print(f"counting stored spans: HTTP {status} {body[:200]!r}")
        return -1
    return int(json.loads(body).get("count", -1))


def _get(port: int, path: str, timeout: float = 300) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _error_code(body: bytes) -> str:
    if body[:1] != b"{":
        return "non-JSON"
    return str(json.loads(body).get("error", {}).get("code", "?"))


def seed_store(server: ServerProcess) -> int:
    template = build_template(seed=7, traces=32, service="seed")
    ids = TraceIds(32)
    body = template.render(ids.for_request(0))
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=60)
    conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
    response = conn.getresponse()
    response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"seeding failed: HTTP {response.status}")
    return 32 * SPANS_PER_TRACE


def worst_queries(server: ServerProcess, timeout: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for label, path, params in QUERIES:
        sampler = RssSampler(server.pid, interval=0.02, pss_every=5)
        sampler.mark()
        sampler.start()
        neighbour: list[float] = []
        stop = threading.Event()

        def other_client(times: list[float] = neighbour, done: threading.Event = stop) -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                _get(server.http_port, "/api/traces?limit=1", timeout=timeout)
                times.append(time.perf_counter() - t0)
                done.wait(0.05)

        watcher = threading.Thread(target=other_client)
        watcher.start()
        started = time.perf_counter()
        try:
            status, body = _get(
                server.http_port, f"{path}?{urllib.parse.urlencode(params)}", timeout
            )
            error = ""
            if status != 200:
                error = (
                    json.loads(body).get("error", {}).get("code", "?")
                    if body[:1] == b"{"
                    else "non-JSON"
                )
        except OSError as exc:
            status, error = 0, f"{type(exc).__name__}"
        elapsed = time.perf_counter() - started
        stop.set()
        watcher.join()
        sampler.stop()
        rows.append(
            {
                "query": label,
                "status": status,
                "error": error,
                "seconds": round(elapsed, 3),
                "peak_rss_sum_mib": round(sampler.peak_since_mark_mib(), 1),
                "peak_pss_mib": round(sampler.peak_pss_since_mark_mib(), 1),
                "other_client_max_s": round(max(neighbour), 3) if neighbour else None,
            }
        )
        print(
            f"  {label:32} {status:>3} {error:22} {elapsed:8.3f} s "
            f"peak {sampler.peak_since_mark_mib():7.1f} MiB (RSS sum)",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--body-mib", type=int, default=30)
    parser.add_argument(
        "--query-timeout",
        type=float,
        default=120.0,
        help="client-side timeout per query (the server's own limit is its setting)",
    )
    parser.add_argument("--skip-bodies", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument(
        "--server-arg",
        action="append",
        default=[],
        help="extra argument for tracepond serve (repeatable)",
    )
    args = parser.parse_args()
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    with tempfile.TemporaryDirectory(prefix="tracepond-hostile-") as workdir:
        if not args.skip_bodies:
            server = ServerProcess(Path(workdir) / "bodies.duckdb", args.server_arg)
            server.start()
            try:
                print(f"{args.senders} concurrent ~{args.body_mib} MiB bodies:", flush=True)
                report["large_bodies"] = concurrent_large_bodies(
                    server, args.senders, args.body_mib
                )
                print(json.dumps(report["large_bodies"], indent=2), flush=True)
            finally:
                server.stop()
        if not args.skip_queries:
            server = ServerProcess(Path(workdir) / "queries.duckdb", args.server_arg)
            server.start()
            try:
                print(f"worst queries on {seed_store(server)} spans:", flush=True)
                time.sleep(3)  # let the idle checkpoint pass
                report["queries"] = worst_queries(server, args.query_timeout)
            finally:
                server.stop()
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"hostile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
