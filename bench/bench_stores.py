"""The same RAG-shaped spans through ``tracepond serve`` into each store, in one run (issue 21).

For each store of ``--stores`` (default: DuckDB, then the ClickHouse store on chdb), a fresh
server fills ``--spans`` spans (16-span RAG traces, 32 traces a request, ``--senders`` concurrent
OTLP/HTTP senders: bench/_traces.py, as bench/load.py sends them), then measures:

* committed spans/s (acknowledged = committed; from the first request to the last answer);
* ``GET /api/traces/{id}`` p50 / p95 over random stored traces;
* a filtered trace search, a full-text search, a query-language search and stats, p50 / p95
  (the queries of bench/bench_query.py);
* bytes on disk per span (the DuckDB file and its WAL; the ClickHouse data directory);
* the peak memory of the server and its decode workers (PSS) while filling.

    .venv/bin/python bench/bench_stores.py --spans 10000000
    .venv/bin/python bench/bench_stores.py --spans 200000 --stores chdb   # quick

The traces repeat 16 templates with fresh ids, so both stores compress them better than real
traffic: compare the stores' bytes per span with each other, not with production.
Results are printed and written to bench/results/stores-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _senders import HttpSender, run_senders
from _server import RssSampler, ServerProcess
from _traces import SPANS_PER_TRACE, SpreadTemplates, Template, TraceIds, build_template
from bench_query import measure, queries
from load import ApiClient, fetch_latency

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PER_REQUEST = 32
TARGETS_MS = {"fetch_p95": 30.0, "filtered_p95": 150.0, "full_text_p95": 1000.0}
SEARCHES = ("filtered", "full_text", "query_language", "stats")


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--stores", default="duckdb,chdb", help="comma-separated, in run order")
    parser.add_argument("--fetches", type=int, default=300)
    parser.add_argument("--runs", type=int, default=40, help="runs of each search")
    parser.add_argument("--settle", type=float, default=20.0, help="idle seconds before reads")
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temp dir)")
    parser.add_argument(
        "--spread-hours",
        type=float,
        default=24.0,
        help="traces start spread over this many hours before now, as a day of traffic leaves"
        " them (0: all within 24 s an hour ago, the shape of the figures before session 15)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="stores already filled in --workdir: measure their reads again, no fill",
    )
    return parser.parse_args(argv)


def store_url(kind: str, workdir: Path) -> tuple[str, Path]:
    """The ``--store`` URL of ``kind`` and the path whose size is the store's."""
    if kind == "duckdb":
        path = workdir / "bench.duckdb"
        return f"duckdb://{path}", path
    if kind == "chdb":
        path = workdir / "chdb"
        return f"chdb://{path}", path
    raise SystemExit(f"unknown store {kind!r}: duckdb or chdb")


def bytes_on_disk(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    wal = path.with_name(path.name + ".wal")
    return sum(p.stat().st_size for p in (path, wal) if p.exists())


def fill(
    server: ServerProcess, spans: int, senders: int, spread_hours: float
) -> tuple[dict[str, Any], TraceIds]:
    ids = TraceIds(PER_REQUEST)
    requests = math.ceil(spans / (PER_REQUEST * SPANS_PER_TRACE))
    templates: list[Template] | SpreadTemplates
    if spread_hours > 0:
        templates = SpreadTemplates(16, PER_REQUEST, requests, spread_hours)
    else:
        # Seeds 0..15: traces start within the last hour (build_template: now - 1 h + seed s).
        templates = [build_template(i, PER_REQUEST, f"rag-service-{i % 3}") for i in range(16)]
    sampler = RssSampler(server.pid, interval=0.1, pss_every=20)
    sampler.mark()
    sampler.start()
    started = time.perf_counter()
    port = server.http_port
    results = run_senders(lambda: HttpSender(port), templates, ids, 0, requests, senders)
    seconds = time.perf_counter() - started
    sampler.stop()
    failed = sum(r.failed_requests for r in results)
    if failed:
        raise RuntimeError(f"{failed} requests failed: {[r.errors[:3] for r in results]}")
    acked = sum(r.acked_spans for r in results)
    return {
        "acked_spans": acked,
        "seconds": round(seconds, 1),
        "spans_per_s": round(acked / seconds),
        "peak_pss_mib": round(sampler.peak_pss_since_mark_mib()),
        "requests": requests,
        "spread_hours": spread_hours,
    }, ids


def sampled_trace_ids(kind: str, where: Path, count: int) -> list[bytes]:
    """Random trace ids of a filled store (--reuse: the fill's ids are not kept)."""
    if kind == "chdb":
        return _chdb_sample(where, count)
    import duckdb

    with duckdb.connect(str(where), read_only=True) as con:
        sql = f"SELECT trace_id FROM traces USING SAMPLE {int(count)} ROWS"
        return [row[0] for row in con.execute(sql).fetchall()]


def _chdb_sample(where: Path, count: int) -> list[bytes]:
    # In a child process: chdb keeps its engine (and the directory) for the process's life,
    # and the server about to start must open the directory itself.
    script = (
        "import sys, clickhouse_connect\n"
        f"c = clickhouse_connect.get_client(dsn='chdb://{where}')\n"
        "rows = c.query('SELECT hex(trace_id) FROM tracepond.traces"
        f" ORDER BY rand() LIMIT {int(count)}').result_rows\n"
        "print(' '.join(r[0] for r in rows))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    return [bytes.fromhex(h) for h in out.stdout.decode().split()]


def fetch_ids(server: ServerProcess, trace_ids: list[bytes]) -> dict[str, Any]:
    api = ApiClient(server.http_port)
    latencies: list[float] = []
    failures = 0
    try:
        for trace_id in trace_ids:
            started = time.perf_counter()
            status, _ = api.get(f"/api/traces/{trace_id.hex()}")
            latencies.append((time.perf_counter() - started) * 1000)
            failures += status != 200
    finally:
        api.close()
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "count": len(ordered),
        "failures": failures,
        "latency_ms": {"p50": pick(0.5), "p95": pick(0.95)},
    }


def reads(
    server: ServerProcess,
    ids: TraceIds | None,
    requests: int,
    args: argparse.Namespace,
    sampled: list[bytes] | None = None,
) -> dict[str, Any]:
    if sampled is not None:
        fetch = fetch_ids(server, sampled)
    else:
        assert ids is not None
        api = ApiClient(server.http_port)
        try:
            fetch = fetch_latency(api, ids, list(range(requests)), args.fetches, seed=7)
        finally:
            api.close()
    timings: dict[str, Any] = {"fetch": fetch}
    paths = queries()
    for name in SEARCHES:
        try:
            timings[name] = measure(server.http_port, paths[name], args.runs)
        except RuntimeError as exc:  # an error answer is a result too (e.g. a memory limit)
            timings[name] = {"error": str(exc)[:300], "p50_ms": math.nan, "p95_ms": math.nan}
            print(f"  {name}: {exc}", flush=True)
    return timings


def run_store(kind: str, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    url, where = store_url(kind, workdir)
    reuse = args.reuse and where.exists()
    sampled = sampled_trace_ids(kind, where, args.fetches) if reuse else None
    server = ServerProcess(where, store_url=url)
    server.start(timeout=600)
    try:
        if reuse:
            spans = json.loads((workdir / "fill.json").read_text())
            filled, ids = spans, None
        else:
            print(f"[{kind}] filling {args.spans:,} spans ...", flush=True)
            filled, ids = fill(server, args.spans, args.senders, args.spread_hours)
            (workdir / "fill.json").write_text(json.dumps(filled))
        print(f"[{kind}] {filled}", flush=True)
        time.sleep(args.settle)  # the idle checkpoint (DuckDB) or merges (ClickHouse)
        timings = reads(server, ids, filled["requests"], args, sampled)
    finally:
        server.stop(timeout=600)
    size = bytes_on_disk(where)
    result = {
        "store": kind,
        "fill": filled,
        "reads": timings,
        "bytes_on_disk": size,
        "bytes_per_span": round(size / filled["acked_spans"], 1),
    }
    print(f"[{kind}] {summary_line(result)}", flush=True)
    return result


def summary_line(r: dict[str, Any]) -> str:
    reads = r["reads"]
    fetch = reads["fetch"]["latency_ms"]
    parts = [
        f"{r['fill']['spans_per_s']:,} spans/s",
        f"fetch p50/p95 {fetch['p50']:.1f}/{fetch['p95']:.1f} ms",
        *(f"{name} p95 {reads[name]['p95_ms']:.1f} ms" for name in SEARCHES),
        f"{r['bytes_per_span']:.0f} B/span",
        f"peak PSS {r['fill']['peak_pss_mib']} MiB",
    ]
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    random.seed(1)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs Python {platform.python_version()}",
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "loadavg_at_start": os.getloadavg(),
        "targets_ms": TARGETS_MS,
        "stores": [],
    }
    with tempfile.TemporaryDirectory(prefix="tracepond-bench-stores-") as tmp:
        for kind in args.stores.split(","):
            workdir = (args.workdir or Path(tmp)) / kind
            workdir.mkdir(parents=True, exist_ok=True)
            report["stores"].append(run_store(kind, workdir, args))
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"stores-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
