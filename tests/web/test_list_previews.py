"""Trace search says what each trace was about: the root's input and output (first line,
bounded), its user and tags, through the API and the Python client."""

from __future__ import annotations

import json
from typing import Any

from conftest import TracepondProcess
from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id
from tracepond.client import Client

from .data import post, wait_for

MS = 1_000_000
LONG_QUESTION = "Why " + "very " * 100 + "long?"


def _agent(server: TracepondProcess, service: str) -> str:
    """An agent root with a multi-line input and a plain output, tags and a user."""
    tid = trace_id()
    root = make_span(
        tid,
        span_id(),
        "agent",
        start=BASE_NS,
        end=BASE_NS + 5 * MS,
        attributes={
            "tracepond.span.kind": "agent",
            "tracepond.input": json.dumps("\n  What is the   weather in Paris?\nAnswer briefly."),
            "tracepond.output": "14C, light rain",
            "user.id": "ada",
            "tracepond.tags": ["weather", "beta"],
        },
    )
    post(server, [root], service=service)
    return tid.hex()


def _llm_root(server: TracepondProcess, service: str) -> str:
    """A lone LLM call: the preview comes from its last user message and its reply."""
    tid = trace_id()
    messages_in = [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": LONG_QUESTION}]},
    ]
    messages_out = [{"role": "assistant", "parts": [{"type": "text", "content": "Because."}]}]
    root = make_span(
        tid,
        span_id(),
        "chat gpt-4o-mini",
        start=BASE_NS + 10 * MS,
        end=BASE_NS + 20 * MS,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.input.messages": json.dumps(messages_in),
            "gen_ai.output.messages": json.dumps(messages_out),
        },
    )
    post(server, [root], service=service)
    return tid.hex()


def _bare(server: TracepondProcess, service: str) -> str:
    tid = trace_id()
    health = make_span(tid, span_id(), "GET /health", start=BASE_NS + 30 * MS)
    post(server, [health], service=service)
    return tid.hex()


def _seed(server: TracepondProcess, service: str) -> dict[str, str]:
    ids = {
        "agent": _agent(server, service),
        "llm": _llm_root(server, service),
        "bare": _bare(server, service),
    }
    wait_for(server, list(ids.values()))
    return ids


def _listed(server: TracepondProcess, service: str, **params: Any) -> dict[str, dict[str, Any]]:
    page = server.get_json("/api/traces", service=service, limit=10, **params)
    return {t["trace_id"]: t for t in page["traces"]}


def test_trace_search_lists_root_input_output_user_and_tags(
    tracepond_server: TracepondProcess,
) -> None:
    service = "previews-api"
    ids = _seed(tracepond_server, service)
    # The same previews whether the search reads only trace summaries or scans spans (text).
    for params in ({}, {"text": "Paris"}, {"sort": "duration"}):
        listed = _listed(tracepond_server, service, **params)
        agent = listed[ids["agent"]]
        assert agent["input_preview"] == "What is the weather in Paris?", params
        assert agent["output_preview"] == "14C, light rain"
        assert agent["user_id"] == "ada"
        assert agent["tags"] == ["weather", "beta"]
        if "text" in params:
            assert list(listed) == [ids["agent"]]
            continue
        llm = listed[ids["llm"]]
        assert llm["input_preview"] is not None
        assert llm["input_preview"].startswith("Why very very")
        assert len(llm["input_preview"]) <= 200 and llm["input_preview"].endswith("…")
        assert llm["output_preview"] == "Because."
        bare = listed[ids["bare"]]
        assert (bare["input_preview"], bare["output_preview"], bare["tags"]) == (None, None, [])


def test_client_trace_summaries_carry_the_previews(tracepond_server: TracepondProcess) -> None:
    service = "previews-client"
    ids = _seed(tracepond_server, service)
    page = Client(tracepond_server.url).search_traces(service=service)
    agent = next(t for t in page if t.trace_id == ids["agent"])
    assert agent.input_preview == "What is the weather in Paris?"
    assert agent.output_preview == "14C, light rain"
    assert agent.tags == ["weather", "beta"]
