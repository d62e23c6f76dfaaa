"""SDK overhead: `@trace` per call, and the LangChain handler per run.

Live pipeline: a BatchSpanProcessor feeding a real OTLP/HTTP exporter that posts to a loopback
sink (a tiny HTTP server answering 200), so export runs concurrently as it would in production.

    .venv/bin/python bench/bench_sdk.py [--calls 50000]
"""

from __future__ import annotations

import argparse
import http.server
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import tracepond
import tracepond.langchain


class _Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def start_sink() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def per_call_us(func: Callable[[], Any], calls: int, repeats: int = 5) -> float:
    """Best-of-N mean time per call, in microseconds."""
    results = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        results.append((time.perf_counter() - start) / calls * 1e6)
    return min(results)


def trivial(x: int, y: int = 1) -> int:
    return x + y


def raw_otel_span() -> None:
    """What any OTel instrumentation pays: the reference point for the figures above it."""
    from opentelemetry import trace

    with trace.get_tracer("bench").start_as_current_span("raw", attributes={"k": "v"}):
        pass


def bench_trace(calls: int) -> dict[str, float]:
    traced = tracepond.trace(trivial)
    no_capture = tracepond.trace(capture=False)(trivial)
    base = per_call_us(lambda: trivial(1), calls)
    return {
        "plain call": base,
        "raw OTel span (reference)": per_call_us(raw_otel_span, calls) - base,
        "@trace (capture on)": per_call_us(lambda: traced(1), calls) - base,
        "@trace (capture off)": per_call_us(lambda: no_capture(1), calls) - base,
    }


def bench_langchain(runs: int) -> dict[str, float]:
    from langchain_core.runnables import RunnableLambda

    chain = RunnableLambda(trivial, name="trivial")
    base = per_call_us(lambda: chain.invoke(1), runs)
    tracepond.langchain.instrument()
    try:
        traced = per_call_us(lambda: chain.invoke(1), runs)
    finally:
        tracepond.langchain.uninstrument()
    return {"RunnableLambda.invoke": base, "handler per run": traced - base}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5_000)
    args = parser.parse_args()
    # Quiet the "Queue full, dropping Span" warnings: under this load the sink is the bottleneck.
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    tracepond.init(start_sink(), service_name="bench")
    results = {**bench_trace(args.calls), **bench_langchain(args.runs)}
    tracepond.flush()
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for name, value in results.items():
        print(f"{name:28s} {value:8.2f} us")


if __name__ == "__main__":
    main()
