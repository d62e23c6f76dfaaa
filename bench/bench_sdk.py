"""SDK overhead: `@trace` per call, and the LangChain handler per run.

Live pipeline: `tracepond.init()` as an agent would call it (its batch processor and OTLP/HTTP
exporter) posting to a sink in another process, as a real server would be; the sink parses each
request and counts the spans it received, so spans dropped by a full queue are visible (a
dropped span skips the export work and would otherwise flatter the figures).

Each figure is per call, minus the undecorated call, the best of `--repeats` runs of `--calls`
calls, each run ending with a flush (so the export of its spans counts): the wall time of the
run, and the CPU time of the whole process (the caller and the export thread; other processes
on the machine do not count in it). The runs of the cases are interleaved round-robin, so that
the VM's drifting speed reaches all of them alike. The export queue is sized for a whole run,
so no span is dropped for a full queue.

    .venv/bin/python bench/bench_sdk.py [--calls 20000] [--repeats 7] [--pipeline otel]
    .venv/bin/python bench/bench_sdk.py --breakdown

`--pipeline otel` swaps in OTel's stock BatchSpanProcessor and OTLPSpanExporter (its protobuf
encoder, in the export thread) for comparison. `--breakdown` measures the layers one by one:
the OTel span alone, made current, tracepond's hooks and decorator without export, with the
encoding processor and a null exporter, then per span the encoding and the HTTP export.
"""

from __future__ import annotations

import argparse
import http.server
import logging
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import tracepond
import tracepond.langchain

# (label, wall µs, CPU µs, note); a row of only a note has no times.
Row = tuple[str, float | None, float | None, str]


class _Sink(http.server.BaseHTTPRequestHandler):
    """Answers 200 to every export and counts the spans in it. Keep-alive, like the server."""

    protocol_version = "HTTP/1.1"
    spans = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = ExportTraceServiceRequest.FromString(body)
        count = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        with _Sink.lock:
            _Sink.spans += count
        self._answer(b"")

    def do_GET(self) -> None:
        self._answer(str(_Sink.spans).encode())

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve_sink() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


class Sink:
    """The sink process: its URL, and how many spans it has received."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink"], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()

    def received(self) -> int:
        with urllib.request.urlopen(self.url, timeout=30) as response:
            return int(response.read())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


def measure(func: Callable[[], Any], calls: int, repeats: int) -> tuple[float, float]:
    """Best-of-N (wall, process CPU) per call in microseconds. Each run ends with a flush, so
    the export of its spans is part of its cost, whether the export thread kept up or not."""
    return measure_rounds({"": func}, calls, repeats)[""]


def measure_rounds(
    cases: dict[str, Callable[[], Any]], calls: int, repeats: int
) -> dict[str, tuple[float, float]]:
    """`measure` for several cases, their runs interleaved round-robin: the VM's speed drifts
    over seconds to minutes, and runs taken back to back per case would put one case in a
    slow minute and the next in a fast one. Interleaved, every case's best run is drawn from
    the same stretch of time."""
    walls: dict[str, list[float]] = {name: [] for name in cases}
    cpus: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, func in cases.items():
            wall, cpu = timed_run(func, calls)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {name: (min(walls[name]), min(cpus[name])) for name in cases}


def timed_run(func: Callable[[], Any], calls: int) -> tuple[float, float]:
    """One run: (wall, process CPU) per call in µs, the export of its spans included."""
    tracepond.flush()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        func()
    tracepond.flush()
    return (time.perf_counter() - wall) / calls * 1e6, (time.process_time() - cpu) / calls * 1e6


def trivial(x: int, y: int = 1) -> int:
    return x + y


def bench_trace(sink: Sink, calls: int, repeats: int) -> list[Row]:
    from opentelemetry import trace

    tracer = trace.get_tracer("bench")

    def raw_otel_span() -> None:
        """What any OTel instrumentation pays: the reference point for the figures below it."""
        with tracer.start_as_current_span("raw", attributes={"k": "v"}):
            pass

    traced = tracepond.trace(trivial)
    no_capture = tracepond.trace(capture=False)(trivial)
    cases: dict[str, Callable[[], Any]] = {
        "plain call": lambda: trivial(1),
        "raw OTel span (reference)": raw_otel_span,
        "@trace (capture on)": lambda: traced(1),
        "@trace (capture off)": lambda: no_capture(1),
    }
    before = sink.received()
    results = measure_rounds(cases, calls, repeats)
    exported = sink.received() - before
    base_wall, base_cpu = results.pop("plain call")
    rows: list[Row] = [("plain call", base_wall, base_cpu, "")]
    for name, (wall, cpu) in results.items():
        rows.append((name, wall - base_wall, cpu - base_cpu, ""))
    # Every span of every run must have reached the sink (none dropped by a full queue).
    made = 3 * calls * repeats
    rows.append(("spans received / made, all runs", None, None, f"{exported}/{made}"))
    return rows


def bench_langchain(runs: int, repeats: int) -> list[Row]:
    from langchain_core.runnables import RunnableLambda

    chain = RunnableLambda(trivial, name="trivial")
    base: list[tuple[float, float]] = []
    handled: list[tuple[float, float]] = []
    for _ in range(repeats):  # interleaved, as in `measure_rounds`
        base.append(timed_run(lambda: chain.invoke(1), runs))
        tracepond.langchain.instrument()
        try:
            handled.append(timed_run(lambda: chain.invoke(1), runs))
        finally:
            tracepond.langchain.uninstrument()
    base_wall, base_cpu = min(w for w, _ in base), min(c for _, c in base)
    wall, cpu = min(w for w, _ in handled), min(c for _, c in handled)
    return [
        ("RunnableLambda.invoke", base_wall, base_cpu, ""),
        ("handler per run", wall - base_wall, cpu - base_cpu, ""),
    ]


class _NullExporter:
    """Accepts serialized batches and drops them: isolates the processor from the network."""

    supports_serialized = True

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def export_serialized(self, body: bytes, span_count: int) -> Any:
        return self.export(())

    def shutdown(self) -> None:
        pass


def bench_breakdown(sink: Sink, calls: int, repeats: int) -> list[Row]:
    """Where the time of a decorated call goes, layer by layer (each row: CPU per call)."""
    from opentelemetry import context as otel_context
    from opentelemetry import trace as otel_trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tracepond.sdk import _direct as direct
    from tracepond.sdk import _setup
    from tracepond.sdk._exporters import FastHttpSpanExporter
    from tracepond.sdk._kinds import SpanKind, kind_attributes
    from tracepond.sdk._otlp import encode_request

    resource = Resource.create({"service.name": "bench"})
    bare = TracerProvider(resource=resource).get_tracer("tracepond")
    attributes = kind_attributes(SpanKind.UNKNOWN, "trivial")

    def span_no_attributes() -> None:
        bare.start_span("trivial").end()

    def span_only() -> None:
        bare.start_span("trivial", attributes=attributes).end()

    def span_current() -> None:
        span = bare.start_span("trivial", attributes=attributes)
        token = otel_context.attach(otel_trace.set_span_in_context(span))
        otel_context.detach(token)
        span.end()

    provider = TracerProvider(resource=resource)
    tracepond.init(exporter=_NullExporter(), tracer_provider=provider)  # type: ignore[arg-type]
    pipeline = _setup._pipelines[id(provider)][1]
    encoding = pipeline.delegate
    traced = tracepond.trace(trivial)
    no_capture = tracepond.trace(capture=False)(trivial)
    rows: list[Row] = []

    def row(name: str, func: Callable[[], Any], base: float = 0.0) -> float:
        wall, cpu = measure(func, calls, repeats)
        rows.append((name, wall - base, cpu - base, ""))
        return cpu

    base = row("plain call", lambda: trivial(1))
    row("OTel span start+end, no attributes", span_no_attributes, base)
    row("OTel span start+end, kind attribute", span_only, base)
    row("  + made current (attach/detach)", span_current, base)
    pipeline.replace(SpanProcessor())  # tracepond's hooks, delegating to a no-op
    row("@trace(capture=False), no export", lambda: no_capture(1), base)
    row("@trace, no export", lambda: traced(1), base)
    pipeline.replace(encoding)  # encode + queue at on_end, batches assembled, then dropped
    # tracepond's pipeline alone on the provider: direct spans (sdk/_direct.py).
    tracer = provider.get_tracer("tracepond")
    row(
        "direct span start+end, kind attribute, null exporter",
        lambda: direct.start_span(tracer, "trivial", attributes).end(),
        base,
    )
    row("@trace(capture=False), null exporter", lambda: no_capture(1), base)
    row("@trace, null exporter", lambda: traced(1), base)
    # The same with SDK spans: a second (no-op) processor on the provider rules direct out.
    sdk_provider = TracerProvider(resource=resource)
    tracepond.init(exporter=_NullExporter(), tracer_provider=sdk_provider)  # type: ignore[arg-type]
    sdk_provider.add_span_processor(SpanProcessor())
    row("@trace(capture=False), SDK spans, null exporter", lambda: no_capture(1), base)
    row("@trace, SDK spans, null exporter", lambda: traced(1), base)
    _setup._pipelines[id(sdk_provider)][1].shutdown()

    # Per span, outside the call: encoding alone (hot loop), and the export thread's POST.
    memory = InMemorySpanExporter()
    tracepond.init(exporter=memory, batch=False, tracer_provider=provider)
    for _ in range(512):
        traced(1)
    spans = memory.get_finished_spans()
    body = encode_request(spans)
    rows.append(("encode_request, per span", *_per_item(lambda: encode_request(spans), 512)))
    exporter = FastHttpSpanExporter(endpoint=f"{sink.url}/v1/traces")
    post = _per_item(lambda: exporter.export_serialized(body, 512), 512, runs=50)
    rows.append(("HTTP export of 512, per span", *post))
    exporter.shutdown()
    pipeline.shutdown()
    return rows


def _per_item(func: Callable[[], Any], items: int, runs: int = 200) -> tuple[float, float, str]:
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(5):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(runs):
            func()
        best_wall = min(best_wall, (time.perf_counter() - wall) / runs / items * 1e6)
        best_cpu = min(best_cpu, (time.process_time() - cpu) / runs / items * 1e6)
    return best_wall, best_cpu, ""


def otel_pipeline(url: str) -> None:
    """OTel's stock exporter (so also its BatchSpanProcessor), for comparison."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter = OTLPSpanExporter(endpoint=f"{url}/v1/traces")
    tracepond.init(url, service_name="bench", exporter=exporter)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=2_000, help="LangChain runs per repeat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--pipeline", choices=("tracepond", "otel"), default="tracepond")
    parser.add_argument("--no-langchain", action="store_true")
    parser.add_argument(
        "--breakdown", action="store_true", help="where the time goes, layer by layer"
    )
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        serve_sink()
        return
    # A tight loop makes spans faster than any exporter sends them, and a processor whose queue
    # is full drops spans, which would then cost nothing to export: size the queue (both
    # processors read this variable) so that every span of a run is exported and counted.
    os.environ.setdefault("OTEL_BSP_MAX_QUEUE_SIZE", str(max(args.calls, args.runs) + 2048))
    logging.getLogger("opentelemetry").setLevel(logging.ERROR)
    logging.getLogger("tracepond").setLevel(logging.ERROR)
    sink = Sink()
    try:
        if args.breakdown:
            rows = bench_breakdown(sink, args.calls, args.repeats)
        else:
            if args.pipeline == "otel":
                otel_pipeline(sink.url)
            else:
                tracepond.init(sink.url, service_name="bench")
            rows = bench_trace(sink, args.calls, args.repeats)
            if not args.no_langchain:
                rows += bench_langchain(args.runs, args.repeats)
        tracepond.flush()
    finally:
        sink.close()
    load = os.getloadavg()[0]
    label = "breakdown" if args.breakdown else f"pipeline {args.pipeline}"
    print(f"{label}; load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"{'us per call':38s} {'wall':>8s} {'CPU':>8s}  spans received")
    for name, wall, cpu, exported in rows:
        if wall is None or cpu is None:
            print(f"{name:38s} {'':8s} {'':8s}  {exported}")
        else:
            print(f"{name:38s} {wall:8.2f} {cpu:8.2f}  {exported}")


if __name__ == "__main__":
    main()
