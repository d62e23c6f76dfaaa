"""A small, known set of traces for search tests, built with the real OTLP protobuf classes.

Times are fixed (BASE_NS and seconds after it) so that time filters are exact; every trace has
a fresh random id, and the ids are returned by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id

S = 1_000_000_000  # one second in ns


def llm(model: str, tokens_in: int, tokens_out: int, question: str, answer: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": question}]}]
        ),
        "gen_ai.output.messages": json.dumps(
            [{"role": "assistant", "parts": [{"type": "text", "content": answer}]}]
        ),
    }


def retriever(contents: list[str]) -> dict[str, Any]:
    docs = [{"id": str(i), "content": c} for i, c in enumerate(contents)]
    return {"gen_ai.retrieval.documents": json.dumps(docs), "gen_ai.retrieval.query.text": "q"}


@dataclass
class Seed:
    """Trace ids (hex) by name, and the requests that carry them."""

    ids: dict[str, str] = field(default_factory=dict)
    span_ids: dict[str, str] = field(default_factory=dict)
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)


def _trace(seed: Seed, name: str, service: str, spans: list[tuple[Any, ...]], start: int) -> None:
    """``spans``: (key, parent key or None, span name, offset s, duration s, attributes, status)."""
    trace = trace_id()
    ids = {key: span_id() for key, *_ in spans}
    built = []
    for key, parent, span_name, offset, duration, attributes, status in spans:
        begin = start + int(offset * S)
        built.append(
            make_span(
                trace,
                ids[key],
                span_name,
                parent=ids[parent] if parent else b"",
                start=begin,
                end=begin + int(duration * S),
                attributes=attributes,
                status_code=status,
            )
        )
        seed.span_ids[f"{name}.{key}"] = ids[key].hex()
    seed.ids[name] = trace.hex()
    seed.requests.append(make_request(built, service=service, resource={"deployment": service}))


def build_seed() -> Seed:
    seed = Seed()
    agent = {"tracepond.span.kind": "agent"}
    _trace(
        seed,
        "rag_empty",
        "rag-svc",
        [
            (
                "root",
                None,
                "rag.query",
                0,
                8,
                {
                    **agent,
                    "session.id": "sess-1",
                    "user.id": "u1",
                    "tracepond.tags": ["beta", "eu"],
                    "input.value": "Where is Atlantis?",
                },
                0,
            ),
            ("ret", "root", "vector.search", 0.1, 0.2, retriever([]), 0),
            (
                "llm",
                "root",
                "chat gpt-4o",
                1,
                6,
                llm("gpt-4o", 100, 20, "Where is Atlantis?", 'Nobody knows 100% "exactly".'),
                0,
            ),
        ],
        BASE_NS,
    )
    _trace(
        seed,
        "rag_ok",
        "rag-svc",
        [
            (
                "root",
                None,
                "rag.query",
                0,
                2,
                {
                    **agent,
                    "session.id": "sess-1",
                    "user.id": "u1",
                    "app.tenant": "acme",
                    "http.status_code": 200,
                },
                0,
            ),
            (
                "ret",
                "root",
                "vector.search",
                0.1,
                0.2,
                retriever(["Paris is in France", "Rome"]),
                0,
            ),
            (
                "llm",
                "root",
                "chat gpt-4o-mini",
                0.5,
                1,
                llm("gpt-4o-mini", 50, 10, "Capital of France?", "Paris"),
                0,
            ),
        ],
        BASE_NS + 60 * S,
    )
    _trace(
        seed,
        "tool_err",
        "agent-svc",
        [
            (
                "root",
                None,
                "agent.run",
                0,
                3,
                {**agent, "session.id": "sess-2", "user.id": "u2", "http.status_code": 500},
                2,
            ),
            (
                "tool",
                "root",
                "execute_tool search",
                0.5,
                0.5,
                {
                    "tracepond.span.kind": "tool",
                    "gen_ai.tool.name": "search",
                    "gen_ai.tool.call.arguments": json.dumps(
                        {"query": "weather in Oslo", "cache": "C:\\tmp\\wx"}
                    ),
                },
                2,
            ),
            (
                "llm",
                "root",
                "chat gpt-4o",
                1,
                1.5,
                {**llm("gpt-4o", 300, 40, "plan", "done"), "gen_ai.usage.cost": 0.25},
                0,
            ),
        ],
        BASE_NS + 120 * S,
    )
    _trace(
        seed,
        "deep",
        "agent-svc",
        [
            ("root", None, "agent.loop", 0, 5, agent, 0),
            ("c1", "root", "step", 0.1, 4, {"tracepond.span.kind": "chain"}, 0),
            ("c2", "c1", "step", 0.2, 3, {"tracepond.span.kind": "chain"}, 0),
            ("llm", "c2", "chat claude", 0.3, 0.5, llm("claude-3", 10, 5, "deep q", "deep a"), 0),
            ("llm2", "root", "chat claude", 4.2, 0.5, llm("claude-3", 7, 3, "top q", "top a"), 0),
        ],
        BASE_NS + 180 * S,
    )
    return seed
