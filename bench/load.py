"""Load benchmark of the spine: OTLP ingest (HTTP/protobuf and gRPC) and trace fetch.

Builds RAG-shaped traces (16 spans: agent root, chains, two LLM calls with messages and token
counts, embedding, retriever with 5 documents of ~500 bytes, tool + HTTP call), batched like the
OTel BatchSpanProcessor (32 traces = 512 spans per request), and in one run reports:

* the CPU ceiling: spans/s of the server's own per-request CPU work (protobuf parse, decode, row
  building, Arrow table) on one core, with no network and no database;
* start-up: spawn -> ready line, spawn -> first acknowledged export;
* HTTP/protobuf: acknowledged (= committed) spans/s with N concurrent senders, the ratio to the
  ceiling, the time from the last acknowledgment until the traces are queryable, the peak memory
  of the server and its decode workers (PSS; summed RSS too), server and sender CPU;
* ``GET /api/traces/{id}`` latency p50/p95 over random traces once ~1M spans are stored: right
  after the fill (while the server's idle checkpoint runs) and again once it has finished;
* gRPC: acknowledged spans/s with N concurrent senders;
* the database size.

    .venv/bin/python bench/load.py                 # 1M spans over HTTP, then 256k over gRPC
    .venv/bin/python bench/load.py --spans 200000 --grpc-spans 50000 --profile

Results are printed as a table and written to bench/results/load-<time>.json.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import math
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pyspy import Profiler, summarize
from _senders import (
    AUTH_HEADERS,
    GrpcSender,
    HttpSender,
    SenderResult,
    run_senders,
    send_one,
)
from _server import RssSampler, ServerProcess, machine_busy_seconds
from _traces import SPANS_PER_TRACE, Template, TraceIds, build_template
from tracepond.conventions import summarize as summarize_traces
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder, parse_protobuf

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGETS = {
    "http_spans_per_s": 25_000,
    "ceiling_ratio": 0.6,
    "fetch_p95_ms": 10.0,
    # Judged on the tree's PSS: summed RSS counts each shared library once per process.
    "peak_memory_mib": 500,
    "first_export_s": 2.0,
}


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--spans", type=int, default=1_000_000, help="spans sent over HTTP (the fill)")
    p.add_argument("--grpc-spans", type=int, default=262_144, help="spans sent over gRPC after")
    p.add_argument("--senders", type=int, default=4, help="concurrent senders per transport")
    p.add_argument("--traces-per-request", type=int, default=32, help="32 x 16 = 512 spans")
    p.add_argument("--templates", type=int, default=16, help="distinct request bodies to vary")
    p.add_argument("--fetches", type=int, default=200, help="random GET /api/traces/{id}")
    p.add_argument("--ceiling-seconds", type=float, default=4.0, help="CPU ceiling run length")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--auth",
        action="store_true",
        help="serve with API keys required (--auth on) and send the first admin key everywhere",
    )
    p.add_argument("--profile", action="store_true", help="py-spy the server during HTTP load")
    p.add_argument("--profile-native", action="store_true", help="py-spy --native (slower)")
    p.add_argument("--workdir", type=Path, help="keep the database here instead of a temp dir")
    p.add_argument("--out", type=Path, help="JSON results path (default bench/results/...)")
    return p.parse_args(argv)


# -- measurements ----------------------------------------------------------------------------


def measure_ceiling(templates: list[Template], per_request: int, seconds: float) -> dict[str, Any]:
    """The server's per-request CPU chain on this core, as a decode worker runs it
    (``ingest.decoding.decode_body``): parse -> decode (incl. normalization) -> to_arrow ->
    per-trace summaries."""
    ids = TraceIds(per_request)
    bodies = [t.render(ids.for_request(i)) for i, t in enumerate(templates)]
    decoder = SpanDecoder(4 * 1024 * 1024)
    for body in bodies[:2]:  # warm-up
        to_arrow(decoder.decode(parse_protobuf(body)).rows)
    parse_s = decode_s = arrow_s = summary_s = 0.0
    spans = requests = 0
    gc.collect()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    while time.perf_counter() - wall0 < seconds:
        for body in bodies:
            t0 = time.perf_counter()
            message = parse_protobuf(body)
            t1 = time.perf_counter()
            batch = decoder.decode(message)
            t2 = time.perf_counter()
            table = to_arrow(batch.rows)
            t3 = time.perf_counter()
            summarize_traces(batch.rows.columns, batch.rows.views)
            t4 = time.perf_counter()
            parse_s += t1 - t0
            decode_s += t2 - t1
            arrow_s += t3 - t2
            summary_s += t4 - t3
            spans += table.num_rows
            requests += 1
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    per_span = 1e6 / spans
    return {
        "spans_per_s": spans / cpu,
        "spans_per_s_wall": spans / wall,
        "spans": spans,
        "requests": requests,
        "cpu_s": cpu,
        "us_per_span": {
            "parse": parse_s * per_span,
            "decode": decode_s * per_span,
            "to_arrow": arrow_s * per_span,
            "summaries": summary_s * per_span,
        },
        "request_bytes_mean": statistics.mean(len(b) for b in bodies),
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _latency_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50": _pct(ms, 0.50),
        "p95": _pct(ms, 0.95),
        "p99": _pct(ms, 0.99),
        "max": max(ms) if ms else math.nan,
        "mean": statistics.mean(ms) if ms else math.nan,
    }


def run_phase(
    name: str,
    server: ServerProcess,
    sampler: RssSampler,
    make_sender: Any,
    templates: list[Template],
    ids: TraceIds,
    first_request: int,
    requests: int,
    senders: int,
) -> tuple[dict[str, Any], list[SenderResult]]:
    sampler.mark()
    writer0 = writer_metrics(server.http_port)
    server_cpu0 = server.cpu_seconds()
    bench_cpu0 = time.process_time()
    busy0 = machine_busy_seconds()
    started = time.perf_counter()
    results = run_senders(make_sender, templates, ids, first_request, requests, senders)
    ended = time.perf_counter()
    bench_cpu = time.process_time() - bench_cpu0
    server_cpu = server.cpu_seconds() - server_cpu0
    other_cpu = machine_busy_seconds() - busy0 - bench_cpu - server_cpu
    writer = {k: v - writer0.get(k, 0.0) for k, v in writer_metrics(server.http_port).items()}
    acked = sum(r.acked_spans for r in results)
    last_ack = max((r.last_ack for r in results), default=ended)
    elapsed = max(last_ack - started, 1e-9)
    wall = ended - started
    phase = {
        "transport": name,
        "senders": senders,
        "requests": requests,
        "ok_requests": sum(r.ok_requests for r in results),
        "retried_requests": sum(r.retried_requests for r in results),
        "failed_requests": sum(r.failed_requests for r in results),
        "errors": [e for r in results for e in r.errors][:10],
        "acked_spans": acked,
        "rejected_spans": sum(r.rejected_spans for r in results),
        "seconds": elapsed,
        "spans_per_s": acked / elapsed,
        "request_latency_ms": _latency_ms([v for r in results for v in r.latencies]),
        "server_cpu_cores": server_cpu / wall,
        "server_cpu_us_per_span": 1e6 * server_cpu / max(acked, 1),
        "sender_cpu_cores": bench_cpu / wall,
        "sender_cpu_us_per_span": 1e6 * bench_cpu / max(acked, 1),
        "other_processes_cpu_cores": max(other_cpu, 0.0) / wall,
        "server_peak_rss_mib": sampler.peak_since_mark_mib(),
        "server_peak_pss_mib": sampler.peak_pss_since_mark_mib(),
        "writer": _writer_summary(writer, wall),
        "last_ack": last_ack,
    }
    return phase, results


_WRITER_METRICS = {
    "tracepond_commits_total": "commits",
    "tracepond_commit_spans_sum": "spans",
    "tracepond_commit_duration_seconds_sum": "seconds",
}


def initial_admin_key(log: list[str]) -> str:
    """The admin key a server with --auth on prints once at its first start."""
    for line in log:
        found = re.search(r"tpk_[0-9a-f]{12}_[0-9a-f]{64}", line)
        if found:
            return found.group(0)
    raise RuntimeError("the server printed no admin key:\n" + "\n".join(log))


def writer_metrics(port: int) -> dict[str, float]:
    """The writer's counters from the server's /metrics: commits, spans and seconds in them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in _WRITER_METRICS:
            found[_WRITER_METRICS[name]] = float(value)
    return found


def _writer_summary(writer: dict[str, float], wall: float) -> dict[str, float]:
    commits = max(writer.get("commits", 0.0), 1.0)
    return {
        "commits": writer.get("commits", 0.0),
        "mean_spans_per_commit": writer.get("spans", 0.0) / commits,
        "mean_commit_ms": 1e3 * writer.get("seconds", 0.0) / commits,
        "busy_fraction": writer.get("seconds", 0.0) / wall,
    }


class ApiClient:
    """Keep-alive HTTP client for the query API."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers=AUTH_HEADERS)
        response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def _span_count(tree: dict[str, Any]) -> int:
    count = 0
    stack = list(tree.get("roots", []))
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(node.get("children", []))
    return count


def _trace_complete(api: ApiClient, trace_id: bytes) -> bool:
    status, body = api.get(f"/api/traces/{trace_id.hex()}")
    return status == 200 and _span_count(orjson.loads(body)) == SPANS_PER_TRACE


def time_to_queryable(
    api: ApiClient, ids: TraceIds, results: list[SenderResult], last_ack: float
) -> dict[str, Any]:
    """From the last acknowledgment until the last-acknowledged trace is complete via the API
    (one GET, retried until complete); then every trace of the last request of every sender is
    checked too."""
    last_requests = [max(r.acked) for r in results if r.acked]
    final = ids.for_request(max(last_requests))[-1]
    attempts = 0
    while True:
        attempts += 1
        complete = _trace_complete(api, final)
        if complete or time.perf_counter() - last_ack > 60:
            break
    seconds = time.perf_counter() - last_ack
    others = [t for k in last_requests for t in ids.for_request(k)]
    missing = sum(not _trace_complete(api, t) for t in others)
    return {
        "seconds": seconds,
        "first_attempt": attempts == 1,
        "complete": complete and not missing,
        "traces_checked": 1 + len(others),
        "missing": missing,
    }


def verify_all(api: ApiClient, ids: TraceIds, expected_traces: int) -> dict[str, Any]:
    """Page through GET /api/traces: every trace of this run present with all its spans."""
    started = time.perf_counter()
    prefix = ids.prefix.hex()
    seen = spans = incomplete = pages = 0
    cursor: str | None = None
    while True:
        path = "/api/traces?limit=1000" + (f"&cursor={cursor}" if cursor else "")
        status, body = api.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
        page = orjson.loads(body)
        pages += 1
        for trace in page["traces"]:
            if trace["trace_id"].startswith(prefix):
                seen += 1
                spans += trace["span_count"]
                incomplete += trace["span_count"] != SPANS_PER_TRACE
        cursor = page["next_cursor"]
        if not cursor:
            break
    return {
        "expected_traces": expected_traces,
        "listed_traces": seen,
        "listed_spans": spans,
        "incomplete_traces": incomplete,
        "ok": seen == expected_traces and incomplete == 0,
        "pages": pages,
        "seconds": time.perf_counter() - started,
    }


def fetch_latency(
    api: ApiClient, ids: TraceIds, acked: list[int], count: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)

    def pick() -> bytes:
        return ids.trace_id(rng.choice(acked) * ids.per_request + rng.randrange(ids.per_request))

    for _ in range(10):  # warm the connection and the API's code paths, not the data
        _trace_complete(api, pick())
    latencies: list[float] = []
    failures = 0
    sizes: list[int] = []
    for _ in range(count):
        trace_id = pick()
        started = time.perf_counter()
        status, body = api.get(f"/api/traces/{trace_id.hex()}")
        latencies.append(time.perf_counter() - started)
        sizes.append(len(body))
        if status != 200 or _span_count(orjson.loads(body)) != SPANS_PER_TRACE:
            failures += 1
    return {
        "count": count,
        "failures": failures,
        "latency_ms": _latency_ms(latencies),
        "response_bytes_mean": statistics.mean(sizes),
    }


def wait_for_checkpoint(db: Path, timeout: float = 300.0) -> float:
    """Seconds until the server's WAL is (nearly) empty, i.e. its idle checkpoint is done."""
    wal = db.with_name(db.name + ".wal")
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if not wal.exists() or wal.stat().st_size < 1 << 20:
            return time.perf_counter() - started
        time.sleep(0.2)
    raise RuntimeError(f"WAL still {wal.stat().st_size:,} bytes after {timeout:.0f} s")


def _db_bytes(db: Path) -> int:
    wal = db.with_name(db.name + ".wal")
    return sum(p.stat().st_size for p in (db, wal) if p.exists())


# -- report ----------------------------------------------------------------------------------


def _ok(value: float, target: float, higher_is_better: bool) -> str:
    passed = value >= target if higher_is_better else value <= target
    return "PASS" if passed else "FAIL"


def fetch_row(row: Any, label: str, fetch: dict[str, Any]) -> None:
    latency = fetch["latency_ms"]
    row(
        label,
        f"{latency['p50']:.1f}/{latency['p95']:.1f}",
        f"p95 <= {TARGETS['fetch_p95_ms']:.0f}",
        _ok(latency["p95"], TARGETS["fetch_p95_ms"], False)
        if not fetch["failures"]
        else f"FAIL ({fetch['failures']} bad)",
    )


def report(r: dict[str, Any]) -> str:
    http_phase, grpc_phase, ceiling = r["http"], r.get("grpc"), r["ceiling"]
    fetch, start = r["fetch"], r["startup"]
    lines = [
        "",
        f"tracepond load benchmark  {r['date']}  {r['machine']}",
        f"requests: {r['config']['spans_per_request']} spans ({r['config']['traces_per_request']}"
        f" traces) per request, {ceiling['request_bytes_mean'] / 1024:.0f} KiB mean body",
        "",
        f"{'measure':<52}{'value':>16}  {'target':>10}  result",
        "-" * 90,
    ]

    def row(name: str, value: str, target: str = "", verdict: str = "") -> None:
        lines.append(f"{name:<52}{value:>16}  {target:>10}  {verdict}")

    row("CPU ceiling (parse+decode+to_arrow, 1 core) spans/s", f"{ceiling['spans_per_s']:,.0f}")
    us = ceiling["us_per_span"]
    row(
        "  us/span parse / decode / to_arrow",
        f"{us['parse']:.1f}/{us['decode']:.1f}/{us['to_arrow']:.1f}",
    )
    row("start: spawn -> ready line  s", f"{start['ready_s']:.2f}")
    row(
        "start: spawn -> first acknowledged export  s",
        f"{start['first_export_s']:.2f}",
        f"<= {TARGETS['first_export_s']:.0f}",
        _ok(start["first_export_s"], TARGETS["first_export_s"], False),
    )
    h = http_phase
    row(
        f"HTTP/protobuf committed spans/s ({h['senders']} senders)",
        f"{h['spans_per_s']:,.0f}",
        f">= {TARGETS['http_spans_per_s']:,}",
        _ok(h["spans_per_s"], TARGETS["http_spans_per_s"], True),
    )
    row(
        "  ratio to CPU ceiling",
        f"{r['ceiling_ratio']:.2f}",
        f">= {TARGETS['ceiling_ratio']}",
        _ok(r["ceiling_ratio"], TARGETS["ceiling_ratio"], True),
    )
    row(
        "  acked spans / requests ok / retried / failed",
        f"{h['acked_spans']:,}/{h['ok_requests']}/{h['retried_requests']}/{h['failed_requests']}",
    )
    lat = h["request_latency_ms"]
    row("  export latency p50/p95/max ms", f"{lat['p50']:.0f}/{lat['p95']:.0f}/{lat['max']:.0f}")
    row(
        "  server CPU cores / us per span",
        f"{h['server_cpu_cores']:.2f}/{h['server_cpu_us_per_span']:.0f}",
    )
    row("  other processes' CPU cores (noise)", f"{h['other_processes_cpu_cores']:.2f}")
    row(
        "  sender CPU cores / us per span",
        f"{h['sender_cpu_cores']:.2f}/{h['sender_cpu_us_per_span']:.1f}",
    )
    w = h["writer"]
    row(
        "  writer: spans per commit / ms per commit / busy",
        f"{w['mean_spans_per_commit']:,.0f}/{w['mean_commit_ms']:.1f}/{w['busy_fraction']:.0%}",
    )
    q = r["queryable"]
    row(
        "  last ack -> last traces queryable  s",
        f"{q['seconds']:.3f}",
        "~0",
        "PASS" if q["complete"] and q["first_attempt"] else "FAIL",
    )
    v = r["verify"]
    row(
        "  all traces listed complete (list API pass, s)",
        f"{v['listed_traces']:,} {v['seconds']:.1f}s",
        "",
        "PASS" if v["ok"] else "FAIL",
    )
    row(
        "server peak memory (PSS) during HTTP ingest  MiB",
        f"{h['server_peak_pss_mib']:.0f}",
        f"<= {TARGETS['peak_memory_mib']}",
        _ok(h["server_peak_pss_mib"], TARGETS["peak_memory_mib"], False),
    )
    row("  summed RSS (shared libraries once per process)  MiB", f"{h['server_peak_rss_mib']:.0f}")
    fetch_row(
        row,
        f"GET /api/traces/{{id}} p50/p95 ms ({fetch['count']} @ {r['stored_spans']:,} spans)",
        fetch,
    )
    flat = fetch["latency_ms"]
    row("  p99 / max ms", f"{flat['p99']:.1f}/{flat['max']:.1f}")
    settled = r.get("fetch_settled")
    if settled:
        label = f"  same, after the idle checkpoint ({r['checkpoint_wait_s']:.1f} s later)"
        fetch_row(row, label, settled)
    if grpc_phase:
        g = grpc_phase
        row(f"gRPC committed spans/s ({g['senders']} senders)", f"{g['spans_per_s']:,.0f}")
        row(
            "  acked spans / ok / retried / failed",
            f"{g['acked_spans']:,}/{g['ok_requests']}/{g['retried_requests']}/"
            f"{g['failed_requests']}",
        )
        row(
            "  server CPU cores / sender CPU cores",
            f"{g['server_cpu_cores']:.2f}/{g['sender_cpu_cores']:.2f}",
        )
        row(
            "  server peak PSS / summed RSS during gRPC ingest  MiB",
            f"{g['server_peak_pss_mib']:.0f}/{g['server_peak_rss_mib']:.0f}",
        )
    row("server VmHWM (whole run)  MiB", f"{r['server_vmhwm_mib']:.0f}")
    row("DB size after HTTP fill (file+wal)  MiB", f"{r['db_bytes_after_http'] / 2**20:,.0f}")
    row(
        "DB size after shutdown checkpoint  MiB / bytes per span",
        f"{r['db_bytes_final'] / 2**20:,.0f} / {r['db_bytes_final'] / r['stored_spans_final']:.0f}",
    )
    lines.append("-" * 90)
    return "\n".join(lines)


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    per_request = args.traces_per_request
    spans_per_request = per_request * SPANS_PER_TRACE
    t0 = time.perf_counter()
    templates = [
        build_template(args.seed * 1000 + i, per_request, f"rag-service-{i % 3}")
        for i in range(args.templates)
    ]
    print(f"built {len(templates)} request templates in {time.perf_counter() - t0:.1f}s")
    ceiling = measure_ceiling(templates, per_request, args.ceiling_seconds)
    print(f"CPU ceiling: {ceiling['spans_per_s']:,.0f} spans/s on one core")

    ids = TraceIds(per_request)
    http_requests = max(2, math.ceil(args.spans / spans_per_request))
    grpc_requests = math.ceil(args.grpc_spans / spans_per_request) if args.grpc_spans else 0
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} Python {platform.python_version()}",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "config": {**vars(args), "spans_per_request": spans_per_request},
        "ceiling": ceiling,
        "loadavg_at_start": os.getloadavg(),
        "targets": TARGETS,
    }
    result["config"]["workdir"] = str(args.workdir) if args.workdir else None
    result["config"]["out"] = str(args.out) if args.out else None

    with tempfile.TemporaryDirectory(prefix="tracepond-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        db = workdir / "bench.duckdb"
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
        server = ServerProcess(db, ["--auth", "on", "--metrics-auth", "off"] if args.auth else [])
        server.start()
        if args.auth:
            AUTH_HEADERS["authorization"] = f"Bearer {initial_admin_key(server.log)}"
        sampler = RssSampler(server.pid)
        sampler.start()
        try:
            # Request 0 is the first export, sent as soon as the ready line is out.
            first = SenderResult()
            probe = HttpSender(server.http_port)
            send_one(probe, templates[0].render(ids.for_request(0)), spans_per_request, first, 0)
            probe.close()
            if not first.ok_requests:
                raise RuntimeError(f"first export failed: {first.errors}")
            result["startup"] = {
                "ready_s": server.ready_seconds,
                "first_export_s": first.last_ack - _perf_from_monotonic(server.spawned_at),
                "rss_after_start_mib": sampler.rss_mib(),
            }
            print(f"server ready in {server.ready_seconds:.2f}s; sending {args.spans:,} over HTTP")

            profiler = None
            RESULTS_DIR.mkdir(parents=True, exist_ok=True)
            if args.profile:
                profiler = Profiler(
                    server.pid, RESULTS_DIR / "profile-http.raw.txt", args.profile_native
                )
            http_phase, http_results = run_phase(
                "http",
                server,
                sampler,
                lambda: HttpSender(server.http_port),
                templates,
                ids,
                1,
                http_requests - 1,
                args.senders,
            )
            api = ApiClient(server.http_port)
            result["queryable"] = time_to_queryable(
                api, ids, http_results, http_phase.pop("last_ack")
            )
            if profiler is not None:
                err = profiler.stop()
                try:
                    result["profile_http"] = summarize(profiler.output)
                except OSError:
                    result["profile_http"] = {"error": err[-2000:]}
            result["http"] = http_phase
            result["ceiling_ratio"] = http_phase["spans_per_s"] / ceiling["spans_per_s"]
            print(f"HTTP: {http_phase['spans_per_s']:,.0f} spans/s committed")

            acked = [0] + [k for r in http_results for k in r.acked]
            stored = http_phase["acked_spans"] + first.acked_spans
            result["stored_spans"] = stored
            result["verify"] = verify_all(api, ids, len(acked) * per_request)
            fetch_profiler = None
            if args.profile:
                fetch_profiler = Profiler(
                    server.pid, RESULTS_DIR / "profile-fetch.raw.txt", args.profile_native, 500
                )
                time.sleep(0.5)  # let py-spy attach before the timed fetches
            result["fetch"] = fetch_latency(api, ids, acked, args.fetches, args.seed)
            if fetch_profiler is not None:
                fetch_profiler.stop()
                result["profile_fetch"] = summarize(fetch_profiler.output)
            result["db_bytes_after_http"] = _db_bytes(db)
            print(f"fetch p95 {result['fetch']['latency_ms']['p95']:.1f} ms at {stored:,} spans")
            # The fetches above run right after the fill, usually while the server's idle
            # checkpoint rewrites the WAL (up to the checkpoint threshold). Once it is done:
            result["checkpoint_wait_s"] = wait_for_checkpoint(db)
            result["fetch_settled"] = fetch_latency(api, ids, acked, args.fetches, args.seed + 1)
            api.close()
            settled = result["fetch_settled"]["latency_ms"]["p95"]
            print(f"fetch p95 {settled:.1f} ms after the checkpoint")

            if grpc_requests:
                grpc_phase, _ = run_phase(
                    "grpc",
                    server,
                    sampler,
                    lambda: GrpcSender(server.grpc_port),
                    templates,
                    ids,
                    http_requests,
                    grpc_requests,
                    args.senders,
                )
                grpc_phase.pop("last_ack")
                result["grpc"] = grpc_phase
                stored += grpc_phase["acked_spans"]
                print(f"gRPC: {grpc_phase['spans_per_s']:,.0f} spans/s committed")
            result["stored_spans_final"] = stored
            result["server_vmhwm_mib"] = sampler.hwm_mib()
        finally:
            sampler.stop()
            stop_started = time.perf_counter()
            code = server.stop()
            result["shutdown"] = {"exit_code": code, "seconds": time.perf_counter() - stop_started}
        result["db_bytes_final"] = _db_bytes(db)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = args.out or RESULTS_DIR / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print(report(result))
    profile = result.get("profile_http")
    if isinstance(profile, dict) and profile.get("self"):
        print("\npy-spy, server during HTTP load: top self time (% of samples)")
        for name, _, pct in profile["self"][:15]:
            print(f"  {pct:5.1f}%  {name}")
        print("top inclusive time")
        for name, _, pct in profile["inclusive"][:20]:
            print(f"  {pct:5.1f}%  {name}")
    fetch_profile = result.get("profile_fetch")
    if isinstance(fetch_profile, dict) and fetch_profile.get("self"):
        print("\npy-spy, server during trace fetches: top self time (% of samples)")
        for name, _, pct in fetch_profile["self"][:15]:
            print(f"  {pct:5.1f}%  {name}")
    print(f"\nresults: {out}")
    return 0


def _perf_from_monotonic(monotonic_time: float) -> float:
    """Convert a time.monotonic() reading to the perf_counter clock."""
    return time.perf_counter() - (time.monotonic() - monotonic_time)


if __name__ == "__main__":
    sys.exit(main())
