"""Streaming through `@trace`: a model step's generator records its time to first chunk (the
attribute and event the LangChain handler records, which the web view reads), its streamed text
joined as its output and reply, and the number of chunks; early close and errors keep what was
streamed. First against the exported spans (both span paths), then through a real server."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncGenerator, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import StatusCode

import tracepond
from tracepond import trace

from .spans import Spans, attr, json_attr

TTFT = "gen_ai.response.time_to_first_chunk"
FIRST_TOKEN = "gen_ai.first_token"


def assistant(text: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "parts": [{"type": "text", "content": text}]}]


@trace(name="chat_stream", kind="chat")
async def chat_stream(messages: list[dict[str, str]]) -> AsyncGenerator[str, None]:
    for token in ["Paris", " is", " the", " capital", "."]:
        await asyncio.sleep(0.01)
        yield token


@trace(name="llm_stream", kind="llm")
def llm_stream(prompt: str) -> Generator[str, None, None]:
    for token in ["one", " two", " three"]:
        time.sleep(0.01)
        yield token


def first_token_seconds(span: Any) -> float:
    seconds = attr(span, TTFT)
    assert isinstance(seconds, float), span.attributes
    events = [e for e in span.events if e.name == FIRST_TOKEN]
    assert len(events) == 1
    assert events[0].attributes[TTFT] == seconds
    return seconds


async def test_async_chat_generator_records_ttft_and_joined_reply(spans: Spans) -> None:
    tokens = [t async for t in chat_stream([{"role": "user", "content": "Capital of France?"}])]
    assert tokens == ["Paris", " is", " the", " capital", "."]
    span = spans.named("chat_stream")
    seconds = first_token_seconds(span)
    # The first token came after one 10 ms sleep, well before the span ended.
    assert 0.005 < seconds < (span.end_time - span.start_time) / 1e9
    assert attr(span, "gen_ai.request.stream") is True
    assert json_attr(span, "tracepond.output") == "Paris is the capital."
    assert json_attr(span, "gen_ai.output.messages") == assistant("Paris is the capital.")
    assert attr(span, "tracepond.output.yield_count") == 5


def test_sync_llm_generator_records_ttft_and_joined_reply(spans: Spans) -> None:
    assert "".join(llm_stream("count")) == "one two three"
    span = spans.named("llm_stream")
    assert first_token_seconds(span) > 0.005
    assert json_attr(span, "tracepond.output") == "one two three"
    assert json_attr(span, "gen_ai.output.messages") == assistant("one two three")
    assert attr(span, "tracepond.output.yield_count") == 3


def test_early_close_keeps_what_was_streamed(spans: Spans) -> None:
    stream = llm_stream("count")
    assert next(stream) == "one"
    assert next(stream) == " two"
    stream.close()
    span = spans.named("llm_stream")
    assert attr(span, "tracepond.generator.closed_early") is True
    assert span.status.status_code is StatusCode.UNSET
    assert json_attr(span, "tracepond.output") == "one two"
    assert attr(span, "tracepond.output.yield_count") == 2
    assert first_token_seconds(span) >= 0


async def test_async_break_then_collection_keeps_what_was_streamed(spans: Spans) -> None:
    async for token in chat_stream([]):
        if token == " is":
            break
    gc.collect()
    for _ in range(3):  # the event loop's asyncgen finalizer schedules aclose()
        await asyncio.sleep(0)
    span = spans.named("chat_stream")
    assert attr(span, "tracepond.generator.closed_early") is True
    assert json_attr(span, "tracepond.output") == "Paris is"


async def test_error_mid_stream_keeps_what_was_streamed(spans: Spans) -> None:
    @trace(name="broken_chat", kind="chat")
    async def broken_chat() -> AsyncGenerator[str, None]:
        yield "Hel"
        yield "lo"
        raise ConnectionError("stream reset")

    received = []
    with pytest.raises(ConnectionError, match="stream reset"):
        async for token in broken_chat():
            received.append(token)
    assert received == ["Hel", "lo"]
    span = spans.named("broken_chat")
    assert span.status.status_code is StatusCode.ERROR
    assert attr(span, "error.type") == "ConnectionError"
    assert json_attr(span, "tracepond.output") == "Hello"
    assert json_attr(span, "gen_ai.output.messages") == assistant("Hello")
    assert attr(span, "tracepond.output.yield_count") == 2
    first_token_seconds(span)


def test_streamed_text_is_bounded_and_stays_valid_json(spans: Spans) -> None:
    spans.init(capture_content=True, max_value_size=200)

    @trace(name="chatty", kind="chat")
    def chatty() -> Iterator[str]:
        for _ in range(1000):
            yield 'word "quoted"\n'

    assert sum(1 for _ in chatty()) == 1000
    span = spans.named("chatty")
    for key in ("tracepond.output", "gen_ai.output.messages"):
        text = attr(span, key)
        assert len(text) <= 200, (key, len(text))
    output = json_attr(span, "tracepond.output")  # whole JSON: the text was cut, not the JSON
    assert output.startswith('word "quoted"\n')
    assert output.endswith("chars]") and "...[truncated " in output
    reply = json_attr(span, "gen_ai.output.messages")[0]["parts"][0]["content"]
    assert reply.startswith('word "quoted"\n') and "...[truncated " in reply
    assert attr(span, "tracepond.output.yield_count") == 1000


def test_non_text_chunks_keep_their_items(spans: Spans) -> None:
    @trace(name="events", kind="chat")
    def events() -> Iterator[Any]:
        yield "thinking"
        yield {"type": "tool_call", "name": "weather", "arguments": {"city": "Paris"}}
        yield "done"

    list(events())
    span = spans.named("events")
    assert json_attr(span, "tracepond.output") == [
        "thinking",
        {"type": "tool_call", "name": "weather", "arguments": {"city": "Paris"}},
        "done",
    ]
    assert attr(span, "gen_ai.output.messages") is None  # no reply text to show
    assert attr(span, "tracepond.output.yield_count") == 3
    first_token_seconds(span)


def test_steps_that_are_not_a_models_keep_their_items(spans: Spans) -> None:
    @trace(name="lines")
    def lines() -> Iterator[str]:
        yield "first line"
        yield "second line"

    list(lines())
    span = spans.named("lines")
    assert json_attr(span, "tracepond.output") == ["first line", "second line"]
    assert attr(span, "gen_ai.request.stream") is None
    first_token_seconds(span)  # the time to the first item is still the stream's


@dataclass
class Delta:
    content: str | None = None
    tool_calls: list[Any] | None = None


@dataclass
class Choice:
    delta: Delta


@dataclass
class CompletionChunk:  # the shape of openai's ChatCompletionChunk
    choices: list[Choice]


def test_openai_style_and_langchain_chunks_are_text(spans: Spans) -> None:
    from langchain_core.messages import AIMessageChunk

    @trace(name="openai_stream", kind="chat")
    def openai_stream() -> Iterator[Any]:
        yield CompletionChunk([Choice(Delta())])  # the role chunk: no content
        yield CompletionChunk([Choice(Delta("Bon"))])
        yield {"choices": [{"delta": {"content": "jour"}}]}
        yield CompletionChunk([])  # the usage chunk: no choice

    @trace(name="langchain_stream", kind="chat")
    def langchain_stream() -> Iterator[Any]:
        yield AIMessageChunk(content="Sa")
        yield AIMessageChunk(content="lut")

    list(openai_stream())
    list(langchain_stream())
    assert json_attr(spans.named("openai_stream"), "tracepond.output") == "Bonjour"
    assert json_attr(spans.named("langchain_stream"), "tracepond.output") == "Salut"


def test_capture_off_records_timing_and_count_only(spans: Spans) -> None:
    spans.init(capture_content=False)
    assert "".join(llm_stream("count")) == "one two three"
    span = spans.named("llm_stream")
    assert attr(span, "tracepond.output") is None
    assert attr(span, "gen_ai.output.messages") is None
    assert attr(span, "tracepond.output.yield_count") == 3
    first_token_seconds(span)


# -- through a real server -------------------------------------------------------------------


def stored_span(server: Any, trace_id: str, name: str) -> dict[str, Any]:
    """The span named `name` of a trace, as the API serves it (with its view)."""
    deadline = time.monotonic() + 60
    while True:
        tree = server.trace(trace_id)
        nodes = [] if tree is None else [n for r in tree["roots"] for n in walk(r)]
        found = [n for n in nodes if n["name"] == name]
        if found:
            span_id = found[0]["span_id"]
            detail: dict[str, Any] = server.get_json(f"/api/traces/{trace_id}/spans/{span_id}")
            return detail
        assert time.monotonic() < deadline, f"{name} of {trace_id} never stored"
        time.sleep(0.1)


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node] + [n for c in node["children"] for n in walk(c)]


@pytest.fixture
def exporting_to(tracepond_server: Any, provider: TracerProvider) -> Iterator[Any]:
    tracepond.init(tracepond_server.url, service_name="tracepond-tests")
    yield tracepond_server
    tracepond.shutdown()


def check_stored_stream(span: dict[str, Any], text: str, chunks: int) -> None:
    seconds = span["attributes"][TTFT]
    assert 0 < seconds * 1e9 < span["duration_ns"]
    assert [e["name"] for e in span["events"]] == [FIRST_TOKEN]
    view = span["view"]
    assert view["category"] == "llm"
    assert view["output"] == text
    assert view["output_messages"] == [
        {"role": "assistant", "parts": [{"type": "text", "content": text}]}
    ]
    assert span["attributes"]["tracepond.output.yield_count"] == chunks


async def test_async_and_sync_streams_through_a_real_server(exporting_to: Any) -> None:
    with tracepond.span("streaming agent", "agent") as root:
        async for _ in chat_stream([{"role": "user", "content": "Capital of France?"}]):
            pass
        for _ in llm_stream("count"):
            pass
    assert tracepond.flush() is True
    chat = stored_span(exporting_to, root.trace_id, "chat_stream")
    check_stored_stream(chat, "Paris is the capital.", 5)
    assert chat["view"]["input_messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]}
    ]
    check_stored_stream(stored_span(exporting_to, root.trace_id, "llm_stream"), "one two three", 3)
