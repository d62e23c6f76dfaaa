"""Search and query latency at 1M spans (issue 5), through HTTP.

Fills a server with ~1M spans of RAG-shaped traces (16 spans each, bench/_traces.py, sent over
OTLP/HTTP like bench/load.py) plus one 50,000-span trace, then times ~50 runs each of:

* a filtered trace search (service + model + min_duration, sorted by duration);
* a full-text search (a phrase from the retrieved documents and messages);
* a query-language query with two selectors;
* stats over the last 24 h in 5-minute buckets, grouped by model;
* the skeleton of the 50,000-span trace.

    .venv/bin/python bench/bench_query.py                          # fill a temp dir, measure
    .venv/bin/python bench/bench_query.py --workdir /tmp/bq        # fill once, keep the DB
    .venv/bin/python bench/bench_query.py --workdir /tmp/bq --reuse  # measure again, no fill

Results are printed and written to bench/results/query-<time>.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import platform
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from _senders import HttpSender, SenderResult, run_senders, send_one
from _server import ServerProcess, machine_busy_seconds
from _traces import SPANS_PER_TRACE, TraceIds, build_template

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BIG_TRACE_SPANS = 50_000
BIG_TRACE_ID = bytes.fromhex("b16b16b16b16b16b16b16b16b16b16b1")
TARGETS_MS = {"filtered": 100.0, "full_text": 500.0, "stats": 300.0, "skeleton_50k": 1000.0}


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--spans", type=int, default=1_000_000, help="spans of RAG traces to fill")
    p.add_argument("--runs", type=int, default=50, help="timed runs per query")
    p.add_argument("--senders", type=int, default=4)
    p.add_argument("--workdir", type=Path, help="keep the database here (bench.duckdb)")
    p.add_argument("--reuse", action="store_true", help="use the filled DB in --workdir as is")
    p.add_argument("--out", type=Path, help="JSON results path")
    return p.parse_args(argv)


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def big_trace_requests(spans: int, per_request: int = 5000) -> list[bytes]:
    """One agent trace of ``spans`` spans: a root, 1000 steps, each with LLM/tool children."""
    now = time.time_ns() - 600 * 1_000_000_000
    ids = [(i + 1).to_bytes(8, "big") for i in range(spans)]
    built: list[Span] = []
    steps = min(1000, spans - 1)
    for i in range(spans):
        if i == 0:
            parent, name, attrs = b"", "agent.run", [_kv("tracepond.span.kind", "agent")]
        elif i <= steps:
            parent, name, attrs = ids[0], "agent.step", [_kv("tracepond.span.kind", "chain")]
        else:
            parent = ids[1 + (i - steps - 1) % steps]
            attrs = [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.request.model", "gpt-4o-mini"),
                _kv("gen_ai.usage.input_tokens", 100 + i % 50),
                _kv("gen_ai.usage.output_tokens", 10 + i % 7),
            ]
            name = "chat gpt-4o-mini"
        start = now + i * 1_000
        built.append(
            Span(
                trace_id=BIG_TRACE_ID,
                span_id=ids[i],
                parent_span_id=parent,
                name=name,
                kind=Span.SpanKind.SPAN_KIND_INTERNAL,
                start_time_unix_nano=start,
                end_time_unix_nano=start + (spans - i) * 1_000 + 500,
                attributes=attrs,
            )
        )
    bodies = []
    for first in range(0, spans, per_request):
        request = ExportTraceServiceRequest()
        rs = request.resource_spans.add()
        rs.resource.attributes.append(_kv("service.name", "big-agent"))
        rs.scope_spans.add().spans.extend(built[first : first + per_request])
        bodies.append(request.SerializeToString())
    return bodies


def fill(server: ServerProcess, spans: int, senders: int) -> dict[str, Any]:
    per_request = 32
    # Seeds 0..15: traces start within the last hour (build_template: now - 1 h + seed s).
    templates = [build_template(i, per_request, f"rag-service-{i % 3}") for i in range(16)]
    ids = TraceIds(per_request)
    requests = math.ceil(spans / (per_request * SPANS_PER_TRACE))
    started = time.perf_counter()
    results = run_senders(
        lambda: HttpSender(server.http_port), templates, ids, 0, requests, senders
    )
    big = SenderResult()
    sender = HttpSender(server.http_port)
    for k, body in enumerate(big_trace_requests(BIG_TRACE_SPANS)):
        send_one(sender, body, 5000, big, k)
    sender.close()
    failed = sum(r.failed_requests for r in results) + big.failed_requests
    if failed:
        raise RuntimeError(f"{failed} requests failed: {[r.errors for r in results]}")
    return {
        "rag_spans": sum(r.acked_spans for r in results),
        "big_trace_spans": big.acked_spans,
        "seconds": time.perf_counter() - started,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def measure(port: int, path: str, runs: int) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times: list[float] = []
    size = 0
    body = b""
    for _ in range(runs + 2):  # two warm-up runs
        started = time.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status} {body[:500]!r}")
        times.append(elapsed * 1000)
        size = len(body)
    conn.close()
    times = times[2:]
    return {
        "path": path,
        "p50_ms": _pct(times, 0.5),
        "p95_ms": _pct(times, 0.95),
        "max_ms": max(times),
        "bytes": size,
        "result": _summary(json.loads(body)),
    }


def _summary(body: dict[str, Any]) -> str:
    if "traces" in body:
        return f"{len(body['traces'])} traces, count {body['count']}"
    if "rows" in body:
        return f"{len(body['rows'])} rows"
    if "nodes" in body:
        return f"{len(body['nodes'])} nodes"
    return ""


def queries() -> dict[str, str]:
    def url(path: str, **params: str) -> str:
        return f"{path}?{urllib.parse.urlencode(params)}"

    return {
        "filtered": url(
            "/api/traces",
            service="rag-service-1",
            model="gpt-4o-2024-08-06",
            min_duration="1s",
            sort="duration",
            limit="50",
        ),
        "full_text": url("/api/traces", text="warranty coverage for batteries", limit="50"),
        "query_language": url(
            "/api/traces",
            q='{ category = "retriever" && documents.count >= 5 } && '
            '{ model =~ "^gpt-4o-mini" && tokens.input > 100 }',
            limit="50",
        ),
        "stats": url("/api/stats", since="24h", bucket="5m", group_by="model"),
        "skeleton_50k": f"/api/traces/{BIG_TRACE_ID.hex()}/skeleton",
    }


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs Python {platform.python_version()}",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "loadavg_at_start": os.getloadavg(),
        "targets_ms": TARGETS_MS,
    }
    with tempfile.TemporaryDirectory(prefix="tracepond-bench-query-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db = workdir / "bench.duckdb"
        if not args.reuse:
            for stale in (db, db.with_name(db.name + ".wal")):
                stale.unlink(missing_ok=True)
        server = ServerProcess(db)
        server.start(timeout=120)
        try:
            if not args.reuse:
                print(f"filling {args.spans:,} spans + one {BIG_TRACE_SPANS:,}-span trace ...")
                result["fill"] = fill(server, args.spans, args.senders)
                print(f"filled in {result['fill']['seconds']:.0f}s")
            busy0 = machine_busy_seconds()
            server_cpu0 = server.cpu_seconds()
            bench_cpu0 = time.process_time()
            started = time.perf_counter()
            timings = {}
            for name, path in queries().items():
                cpu0 = server.cpu_seconds()
                timings[name] = measure(server.http_port, path, args.runs)
                t = timings[name]
                # Server CPU per request (warm-ups included): the work itself, which other
                # processes' load inflates far less than the wall times.
                t["server_cpu_ms"] = (server.cpu_seconds() - cpu0) * 1000 / (args.runs + 2)
                print(
                    f"{name:15} p50 {t['p50_ms']:8.1f} p95 {t['p95_ms']:8.1f} ms,"
                    f" server CPU {t['server_cpu_ms']:7.1f} ms/request",
                    t["result"],
                )
            wall = time.perf_counter() - started
            own = server.cpu_seconds() - server_cpu0 + time.process_time() - bench_cpu0
            other = machine_busy_seconds() - busy0 - own
            result["timings"] = timings
            result["other_processes_cpu_cores"] = max(other, 0.0) / wall
            result["loadavg_at_end"] = os.getloadavg()
        finally:
            server.stop()
    print(f"other processes' CPU during the timed runs: {result['other_processes_cpu_cores']:.2f}")
    for name, target in TARGETS_MS.items():
        p95 = result["timings"][name]["p95_ms"]
        print(f"{name:15} target < {target:6.0f} ms: {'ok' if p95 < target else 'MISSED'}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS_DIR / f"query-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
