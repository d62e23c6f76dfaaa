"""The captured requests of every real producer, sent to a real server: the API's trace totals
and per-span views are what the producers' spans mean (see test_producers.py for the views)."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from tracepond.conventions import SpanInput, default_prices, normalize, price_view
from tracepond.ingest.decode import SpanDecoder, parse_protobuf
from tracepond.ingest.otlp_json import parse_json

from .otlp_fixtures import FIXTURES

# (input tokens, output tokens, LLM steps, tool steps, retriever steps), summed over the traces.
EXPECTED_TOTALS = {
    "openinference_langchain": (280, 24, 2, 2, 1),
    "mlflow_tracing": (42, 7, 1, 2, 1),
    "langsmith_otel": (41, 7, 2, 2, 1),
    "traceloop_langchain": (21, 8, 1, 3, 1),
    "otel_js_proto": (1200, 85, 1, 2, 1),
    "otel_js_json": (1200, 85, 1, 2, 1),
}


def captured_requests(producer: str) -> list[tuple[bytes, str, dict[str, str]]]:
    """(body as captured, content type, extra headers) of each trace request."""
    out = []
    for path in sorted((FIXTURES / producer).iterdir()):
        if path.name.startswith(("logs-", "metrics-")) or path.suffix == ".md":
            continue
        media = "application/json" if ".json" in path.name else "application/x-protobuf"
        headers = {"Content-Encoding": "gzip"} if path.name.endswith(".gz") else {}
        out.append((path.read_bytes(), media, headers))
    return out


def trace_ids(producer: str) -> set[str]:
    ids = set()
    for body, media, headers in captured_requests(producer):
        raw = gzip.decompress(body) if headers else body
        request = parse_json(raw) if media == "application/json" else parse_protobuf(raw)
        rows = SpanDecoder(1 << 22).decode(request).rows
        ids.update(t.hex() for t in rows.columns["trace_id"])
    return ids


@pytest.mark.parametrize("producer", sorted(EXPECTED_TOTALS))
def test_trace_totals_through_the_api(tracepond_server: Any, producer: str) -> None:
    for body, media, headers in captured_requests(producer):
        response = tracepond_server.post_otlp(body, media, **headers)
        assert response.status_code == 200, response.text
    summaries = [tracepond_server.trace(t)["summary"] for t in sorted(trace_ids(producer))]
    got = tuple(
        sum(s[key] for s in summaries)
        for key in ("input_tokens", "output_tokens", "llm_count", "tool_count", "retriever_count")
    )
    assert got == EXPECTED_TOTALS[producer]


CAPTURES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "scripts")


@pytest.mark.parametrize("producer", CAPTURES)
def test_every_node_carries_the_view_of_its_raw_attributes(
    tracepond_server: Any, producer: str
) -> None:
    """What was stored as JSON and read back still normalizes like the original spans."""
    for body, media, headers in captured_requests(producer):
        assert tracepond_server.post_otlp(body, media, **headers).status_code == 200
    for trace in sorted(trace_ids(producer)):
        for node in walk(tracepond_server.trace(trace)["roots"]):
            view = normalize(
                SpanInput(
                    name=node["name"],
                    status_code=["unset", "ok", "error"].index(node["status"]["code"]),
                    status_message=node["status"]["message"],
                    attributes=node["attributes"],
                    events=node["events"],
                )
            )
            # An LLM call that sent no cost is priced at its start (docs/cost.md).
            price_view(view, node["start_time_unix_nano"], default_prices())
            assert node["view"] == view.to_dict(), node["name"]


def walk(roots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, stack = [], list(roots)
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node["children"])
    return out


def test_openinference_documents_and_tool_call_as_served(tracepond_server: Any) -> None:
    for body, media, headers in captured_requests("openinference_langchain"):
        assert tracepond_server.post_otlp(body, media, **headers).status_code == 200
    nodes = [
        n
        for t in sorted(trace_ids("openinference_langchain"))
        for n in walk(tracepond_server.trace(t)["roots"])
    ]
    views = {n["name"]: n["view"] for n in nodes}
    retriever = next(v for v in views.values() if v["category"] == "retriever")
    assert len(retriever["documents"]) == 2
    assert retriever["documents"][0]["content"] == "Paris is the capital of France."
    assert retriever["documents"][0]["metadata"] == {"source": "kb.pdf", "id": "doc_1"}
    tool = next(v for v in views.values() if v["tool"] and v["tool"]["name"] == "get_weather")
    assert tool["tool"]["result"] == {"city": "Paris", "temp_c": 14}
    failed = next(v for v in views.values() if v["error"] and v["category"] == "tool")
    assert failed["error"] == {"type": "ValueError", "message": "tool failed: boom"}
