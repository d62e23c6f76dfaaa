"""`tracepond.span()` (sync and async) and the typed helpers of its handle."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from opentelemetry.trace import StatusCode

import tracepond
from tracepond.conventions import SpanInput, normalize

from .spans import Spans, attr, json_attr


@dataclass
class Doc:
    page_content: str
    metadata: dict[str, str]
    id: str


def test_llm_helpers(spans: Spans) -> None:
    with tracepond.span("chat gpt-test", kind="chat") as s:
        s.set_model("gpt-test", provider="openai", response_model="gpt-test-1", temperature=0.2)
        s.set_input_messages(
            [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
            ]
        )
        s.set_output_messages(
            [
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                        }
                    ],
                }
            ],
            finish_reason="tool_call",
        )
        s.set_usage(input_tokens=12, output_tokens=5, cache_read_tokens=4)
    span = spans.named("chat gpt-test")
    assert attr(span, "tracepond.span.kind") == "chat"
    assert attr(span, "gen_ai.operation.name") == "chat"
    assert attr(span, "gen_ai.request.model") == "gpt-test"
    assert attr(span, "gen_ai.response.model") == "gpt-test-1"
    assert attr(span, "gen_ai.provider.name") == "openai"
    assert attr(span, "gen_ai.request.temperature") == 0.2
    assert attr(span, "gen_ai.usage.input_tokens") == 12
    assert attr(span, "gen_ai.usage.output_tokens") == 5
    assert attr(span, "gen_ai.usage.total_tokens") == 17
    assert attr(span, "gen_ai.usage.cache_read.input_tokens") == 4
    assert attr(span, "gen_ai.response.finish_reasons") == ("tool_call",)
    assert json_attr(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
    ]
    assert json_attr(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                    "id": "call_1",
                }
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_retriever_tool_session_tags_metadata(spans: Spans) -> None:
    with tracepond.span("rag", kind="chain") as root:
        root.set_session(session_id="s-1", user_id="u-1")
        root.set_tags(["beta"])
        root.set_metadata({"env": "prod", "nested": {"a": 1}})
        root.set_input({"question": "q"})
        root.set_output("a")
        with tracepond.span("retrieve", kind="retriever") as r:
            r.set_retrieval(
                "where?",
                [
                    (Doc("Paris is in France", {"src": "geo"}, "d1"), 0.91),
                    {"id": "d2", "content": "Lyon", "score": 0.5},
                ],
            )
        with tracepond.span("execute_tool weather", kind="tool") as t:
            t.set_tool_call("weather", {"city": "Paris"}, call_id="c1", description="Weather")
            t.set_tool_result({"temp_c": 14})
    assert spans.tree() == [("rag", [("retrieve", []), ("execute_tool weather", [])])]
    root_span = spans.named("rag")
    assert attr(root_span, "gen_ai.conversation.id") == "s-1"
    assert attr(root_span, "session.id") == "s-1"
    assert attr(root_span, "user.id") == "u-1"
    assert attr(root_span, "tracepond.tags") == ("beta",)
    assert attr(root_span, "tracepond.metadata.env") == "prod"
    assert json_attr(root_span, "tracepond.metadata.nested") == {"a": 1}
    assert json_attr(root_span, "tracepond.input") == {"question": "q"}
    assert json_attr(root_span, "tracepond.output") == "a"
    retrieve = spans.named("retrieve")
    assert attr(retrieve, "gen_ai.retrieval.query.text") == "where?"
    assert json_attr(retrieve, "gen_ai.retrieval.documents") == [
        {"id": "d1", "content": "Paris is in France", "score": 0.91, "metadata": {"src": "geo"}},
        {"id": "d2", "content": "Lyon", "score": 0.5, "metadata": {}},
    ]
    tool = spans.named("execute_tool weather")
    assert attr(tool, "gen_ai.tool.name") == "weather"
    assert attr(tool, "gen_ai.tool.call.id") == "c1"
    assert attr(tool, "gen_ai.tool.description") == "Weather"
    assert json_attr(tool, "gen_ai.tool.call.arguments") == {"city": "Paris"}
    assert json_attr(tool, "gen_ai.tool.call.result") == {"temp_c": 14}


async def test_async_span_and_error(spans: Spans) -> None:
    with pytest.raises(KeyError):
        async with tracepond.span("outer", kind="agent") as outer:
            assert tracepond.current_span().span_id == outer.span_id
            async with tracepond.span("inner"):
                pass
            raise KeyError("missing")
    assert spans.tree() == [("outer", [("inner", [])])]
    outer_span = spans.named("outer")
    assert outer_span.status.status_code is StatusCode.ERROR
    assert attr(outer_span, "error.type") == "KeyError"
    assert [e.name for e in outer_span.events] == ["exception"]


def test_current_span_inside_trace_and_unknown_kind(spans: Spans) -> None:
    @tracepond.trace(name="call_model", kind="llm")
    def call_model(prompt: str) -> str:
        tracepond.current_span().set_model("tiny", provider="local")
        tracepond.current_span().set_usage(3, 1)
        return "ok"

    assert call_model("hi") == "ok"
    with tracepond.span("odd", kind="not-a-kind") as odd:
        assert len(odd.trace_id) == 32
    span = spans.named("call_model")
    assert attr(span, "gen_ai.operation.name") == "text_completion"
    assert attr(span, "gen_ai.request.model") == "tiny"
    assert attr(span, "gen_ai.usage.total_tokens") == 4
    assert json_attr(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}
    ]
    assert attr(spans.named("odd"), "tracepond.span.kind") == "unknown"


def test_handle_without_active_span_is_a_no_op() -> None:
    handle = tracepond.current_span()
    handle.set_model("m")
    handle.set_usage(1, 2)
    handle.set_output_messages(["x"])
    assert handle.trace_id == "0" * 32


def test_set_usage_sends_a_cost_the_server_keeps(spans: Spans) -> None:
    with tracepond.span("chat gpt-4o-mini", kind="chat") as s:
        s.set_model("gpt-4o-mini", provider="openai")
        s.set_usage(1_000, 50, cache_read_tokens=200, cache_write_tokens=100, cost=0.0123)
    span = spans.named("chat gpt-4o-mini")
    assert attr(span, "gen_ai.usage.cost") == 0.0123
    assert attr(span, "gen_ai.usage.cache_creation.input_tokens") == 100
    view = normalize(SpanInput(name=span.name, attributes=dict(span.attributes or {})))
    assert (view.cost, view.cost_source) == (0.0123, "sent")
    assert view.usage.cache_write_tokens == 100
