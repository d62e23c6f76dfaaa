"""``tracepond serve --store chdb:///dir`` end to end: the real server on the ClickHouse store
(chdb, in-process ClickHouse, in the server's own process), fed by the OpenTelemetry SDK's OTLP
exporter, read back through the API, search with the query language, stats, the Jaeger API and
/metrics; restarted on the same directory, it serves the same data."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from operate.promtext import scrape, total

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("chdb") is None, reason="chdb is not installed"
)
SERVICE = "chdb-e2e"


def send_agent_trace(server: Any, start_ns: int) -> tuple[str, str]:
    """One agent trace (a root, an LLM call, a tool call) through the SDK's exporter; its
    trace id and root span id as hex."""
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces"))
    )
    tracer = provider.get_tracer("chdb-e2e")
    with tracer.start_as_current_span(
        "agent.run", kind=SpanKind.SERVER, start_time=start_ns, end_on_exit=False
    ) as root:
        context = root.get_span_context()
        with tracer.start_as_current_span(
            "chat gpt-4o",
            kind=SpanKind.CLIENT,
            start_time=start_ns + 1_000_000,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
            },
            end_on_exit=False,
        ) as llm:
            llm.end(end_time=start_ns + 5_000_000)
        with tracer.start_as_current_span(
            "tool calculator",
            start_time=start_ns + 6_000_000,
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "calc"},
            end_on_exit=False,
        ) as tool:
            tool.end(end_time=start_ns + 7_000_000)
        root.end(end_time=start_ns + 8_000_000)
    provider.shutdown()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def test_serve_on_chdb_end_to_end(start_tracepond: Any, tmp_path: Path) -> None:
    directory = tmp_path / "chdb"
    url = f"chdb://{directory}"
    server = start_tracepond("--store", url, pass_db=False)
    start = time.time_ns() - 60_000_000_000
    trace, root = send_agent_trace(server, start)

    listed = server.get_json("/api/traces")
    assert [t["trace_id"] for t in listed["traces"]] == [trace]
    tree = server.trace(trace)
    assert tree is not None
    summary = tree["summary"]
    assert (summary["span_count"], summary["root_span_id"]) == (3, root)
    assert (summary["root_name"], summary["input_tokens"]) == ("agent.run", 120)

    found = server.get_json("/api/traces", q='{ name = "tool calculator" }')
    assert [t["trace_id"] for t in found["traces"]] == [trace]
    assert server.get_json("/api/traces", q='{ name = "no such span" }')["traces"] == []
    spans = server.get_json("/api/spans", q='{ span.gen_ai.request.model = "gpt-4o" }')
    assert [s["name"] for s in spans["spans"]] == ["chat gpt-4o"]

    window = {"since": str(start - 1), "until": str(start + 60_000_000_000)}
    (row,) = server.get_json("/api/stats", **window)["rows"]
    assert (row["count"], row["input_tokens"]) == (3, 120)
    (row,) = server.get_json("/api/stats", level="trace", **window)["rows"]
    assert row["count"] == 1

    (jaeger,) = server.get_json(f"/jaeger/api/traces/{trace}")["data"]
    assert jaeger["traceID"] == trace and len(jaeger["spans"]) == 3
    assert server.get_json("/jaeger/api/services")["data"] == [SERVICE]

    samples = scrape(server)
    assert total(samples, "tracepond_committed_spans_total") == 3
    assert total(samples, "tracepond_database_bytes") > 0

    assert server.stop() == 0
    # A new process on the same directory reads what the first one stored.
    again = start_tracepond("--store", url, pass_db=False)
    tree = again.trace(trace)
    assert tree is not None and tree["summary"]["span_count"] == 3
    assert [t["trace_id"] for t in again.get_json("/api/traces")["traces"]] == [trace]
