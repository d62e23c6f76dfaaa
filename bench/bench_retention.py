"""Retention at steady state (issue 20): does the database stop growing, and what do purges
cost ingest?

Two ``tracepond serve`` processes on fresh databases: A with ``--retention TTL`` (default 10 s,
a pass every TTL/4), B without. One load thread sends OTLP/HTTP requests (50 traces of 5 spans,
~600 bytes of attributes per span, timestamps = now) to A and B in turn, in phases of
``--phase`` seconds (interleaved: A, B, A, B...), and reports the acknowledged spans/s of each
phase. A's database file size (file + WAL) and stored traces are sampled every 5 s.

Why a TTL of seconds: the retention is by the span timestamps the application sent, compared
with the server's clock, so "simulated time" would need spans from the future. With a TTL of
10 s, each TTL period is one full turnover of the data; a 180 s run covers 18 of them, the
turnover of 30 minutes at a 100 s TTL, or ~9 hours of traffic at this rate under a 30 min TTL
(what matters for the file's size is the number of turnovers, not wall time).

    .venv/bin/python bench/bench_retention.py            # ~4 min
    .venv/bin/python bench/bench_retention.py --phase 20 --rounds 3 --ttl 10s
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _server import ServerProcess
from ingest.otlp_build import make_request, make_span, span_id, trace_id

TRACES_PER_REQUEST = 50
SPANS_PER_TRACE = 5


def request_body() -> bytes:
    now = time.time_ns()
    spans = []
    for _ in range(TRACES_PER_REQUEST):
        trace = trace_id()
        root = span_id()
        spans.append(make_span(trace, root, "agent", start=now - 10**7, end=now))
        for i in range(SPANS_PER_TRACE - 1):
            attrs = {"input.value": f"question {i} " * 40, "gen_ai.request.model": "gpt-4o"}
            spans.append(
                make_span(
                    trace,
                    span_id(),
                    "llm",
                    parent=root,
                    start=now - 10**6,
                    end=now,
                    attributes=attrs,
                )
            )
    return make_request(spans).SerializeToString()


def load(port: int, seconds: float) -> float:
    """Acknowledged spans/s sending back to back for ``seconds``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    spans, started = 0, time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        body = request_body()
        conn.request("POST", "/v1/traces", body, {"Content-Type": "application/x-protobuf"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            spans += TRACES_PER_REQUEST * SPANS_PER_TRACE
    conn.close()
    return spans / elapsed


def metric(port: int, name: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    values = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    ]
    return sum(values)


def file_bytes(db: Path) -> int:
    wal = Path(f"{db}.wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ttl", default="10s")
    parser.add_argument("--phase", type=float, default=30.0, help="seconds per load phase")
    parser.add_argument("--rounds", type=int, default=4, help="A/B pairs of phases")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a = ServerProcess(Path(tmp) / "a.duckdb", ["--retention", args.ttl])
        b = ServerProcess(Path(tmp) / "b.duckdb")
        a.start()
        b.start()
        samples: list[tuple[float, int, float]] = []
        stop = threading.Event()
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(5.0):
                traces = metric(a.http_port, "tracepond_stored_traces")
                samples.append((time.monotonic() - started, file_bytes(a.db), traces))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rates: dict[str, list[float]] = {"A (retention)": [], "B (none)": []}
        try:
            for _ in range(args.rounds):
                rates["A (retention)"].append(load(a.http_port, args.phase))
                rates["B (none)"].append(load(b.http_port, args.phase))
            stop.set()
            sampler.join()
            purged = metric(a.http_port, "tracepond_traces_purged_total")
            longest = metric(a.http_port, "tracepond_writer_task_max_seconds")
            b_size = file_bytes(b.db)
        finally:
            a.stop()
            b.stop()
    print(f"ttl {args.ttl}, {args.rounds} x ({args.phase:.0f} s A + {args.phase:.0f} s B)")
    for name, values in rates.items():
        shown = ", ".join(f"{v:,.0f}" for v in values)
        print(f"{name}: spans/s per phase {shown}; median {statistics.median(values):,.0f}")
    print(f"A purged {purged:,.0f} traces; longest writer batch {longest * 1e3:.1f} ms")
    print(f"B (no retention) file at the end: {b_size / 2**20:.1f} MiB")
    print("A's size over time (s, file+WAL MiB, stored traces):")
    for at, size, traces in samples:
        print(f"  {at:6.0f}  {size / 2**20:7.1f}  {traces:8,.0f}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"retention-{int(time.time())}.json").write_text(
        json.dumps(
            {
                "rates": rates,
                "samples": samples,
                "purged": purged,
                "longest": longest,
                "b_bytes": b_size,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
