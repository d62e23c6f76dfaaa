"""Every `@trace` form against the exact span tree an in-memory exporter receives."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator, Generator
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

import tracepond
from tracepond import SpanKind, trace

from .spans import Spans, attr, json_attr


@trace
def add(a: int, b: int = 2) -> int:
    return a + b


@trace(name="lookup", kind="tool", attributes={"team": "search"})
def lookup(city: str) -> dict[str, Any]:
    return {"city": city, "temp_c": 14}


@trace(kind=SpanKind.CHAIN)
def pipeline(x: int) -> int:
    return add(x) + add(x, b=10)


class Agent:
    prefix = "agent"

    @trace(kind="agent")
    def run(self, question: str) -> str:
        return f"{self.prefix}:{question}"

    @trace
    @staticmethod
    def helper(value: int) -> int:
        return value * 2

    @trace
    @classmethod
    def build(cls, label: str) -> str:
        return f"{cls.__name__}:{label}"

    @classmethod
    @trace
    def build_inner(cls, label: str) -> str:
        return f"{cls.__name__}/{label}"


class Boom(Exception):
    pass


@trace
def explode(reason: str) -> None:
    raise Boom(reason)


def test_bare_decorator_records_inputs_outputs_and_name(spans: Spans) -> None:
    assert add(1) == 3
    span = spans.named("add")
    assert span.parent is None
    assert attr(span, "tracepond.span.kind") == "unknown"
    assert attr(span, "gen_ai.operation.name") is None
    assert json_attr(span, "tracepond.input") == {"a": 1, "b": 2}
    assert json_attr(span, "tracepond.output") == 3
    assert span.status.status_code is StatusCode.UNSET


def test_arguments_name_kind_and_extra_attributes(spans: Spans) -> None:
    assert lookup("Paris") == {"city": "Paris", "temp_c": 14}
    span = spans.named("lookup")
    assert attr(span, "tracepond.span.kind") == "tool"
    assert attr(span, "gen_ai.operation.name") == "execute_tool"
    assert attr(span, "gen_ai.tool.name") == "lookup"
    assert attr(span, "team") == "search"
    assert json_attr(span, "gen_ai.tool.call.arguments") == {"city": "Paris"}
    assert json_attr(span, "gen_ai.tool.call.result") == {"city": "Paris", "temp_c": 14}


def test_nested_calls_form_a_tree(spans: Spans) -> None:
    assert pipeline(1) == 3 + 11
    assert spans.tree() == [("pipeline", [("add", []), ("add", [])])]
    root = spans.named("pipeline")
    assert attr(root, "gen_ai.operation.name") == "invoke_workflow"
    assert {s.context.trace_id for s in spans.all()} == {root.context.trace_id}


def test_methods_static_and_class_methods_leave_out_self_and_cls(spans: Spans) -> None:
    agent = Agent()
    assert agent.run("hi") == "agent:hi"
    assert Agent.helper(4) == 8
    assert agent.helper(5) == 10
    assert Agent.build("x") == "Agent:x"
    assert Agent.build_inner("y") == "Agent/y"
    run = spans.named("Agent.run")
    assert attr(run, "gen_ai.operation.name") == "invoke_agent"
    assert attr(run, "gen_ai.agent.name") == "Agent.run"
    assert json_attr(run, "tracepond.input") == {"question": "hi"}
    assert [json_attr(s, "tracepond.input") for s in spans.all_named("Agent.helper")] == [
        {"value": 4},
        {"value": 5},
    ]
    assert json_attr(spans.named("Agent.build"), "tracepond.input") == {"label": "x"}
    assert json_attr(spans.named("Agent.build_inner"), "tracepond.input") == {"label": "y"}


def test_exception_sets_error_status_event_and_reraises_unchanged(spans: Spans) -> None:
    with pytest.raises(Boom) as caught:
        explode("bad input")
    assert str(caught.value) == "bad input"
    span = spans.named("explode")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "Boom: bad input"
    assert attr(span, "error.type") == f"{Boom.__module__}.Boom"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.message"] == "bad input"
    assert attr(span, "tracepond.output") is None


def test_error_in_child_marks_child_only_when_parent_handles_it(spans: Spans) -> None:
    @trace
    def careful() -> str:
        try:
            explode("inner")
        except Boom:
            return "recovered"
        return "unreachable"

    assert careful() == "recovered"
    assert spans.tree() == [
        (
            "test_error_in_child_marks_child_only_when_parent_handles_it.<locals>.careful",
            [("explode", [])],
        )
    ]
    assert spans.named("explode").status.status_code is StatusCode.ERROR
    assert spans.all_named(spans.tree()[0][0])[0].status.status_code is StatusCode.UNSET


async def test_async_functions_nest_and_record(spans: Spans) -> None:
    @trace(name="fetch", kind="retriever")
    async def fetch(query: str) -> list[dict[str, Any]]:
        await asyncio.sleep(0)
        return [{"id": "d1", "content": "Paris is in France", "score": 0.9}]

    @trace(name="answer", kind="agent")
    async def answer(question: str) -> str:
        docs = await fetch(question)
        return str(docs[0]["content"])

    assert await answer("where is Paris?") == "Paris is in France"
    assert spans.tree() == [("answer", [("fetch", [])])]
    fetch_span = spans.named("fetch")
    assert attr(fetch_span, "gen_ai.operation.name") == "retrieval"
    assert attr(fetch_span, "gen_ai.retrieval.query.text") == "where is Paris?"
    assert json_attr(fetch_span, "gen_ai.retrieval.documents") == [
        {"id": "d1", "content": "Paris is in France", "score": 0.9, "metadata": {}}
    ]


async def test_async_exception(spans: Spans) -> None:
    @trace
    async def fails() -> None:
        await asyncio.sleep(0)
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await fails()
    [span] = spans.all()
    assert span.status.status_code is StatusCode.ERROR
    assert attr(span, "error.type") == "ValueError"
    assert [e.name for e in span.events] == ["exception"]


@trace(name="numbers")
def numbers(n: int) -> Generator[int, None, None]:
    for i in range(n):
        add(i)  # made while the body runs: a child of "numbers"
        yield i


def test_generator_span_covers_the_body_and_records_yields(spans: Spans) -> None:
    seen = []
    for value in numbers(3):
        with tracepond.span("consumer"):  # made by the consumer between yields: not a child
            seen.append(value)
    assert seen == [0, 1, 2]
    tree = spans.tree()
    assert ("numbers", [("add", []), ("add", []), ("add", [])]) in tree
    assert tree.count(("consumer", [])) == 3
    span = spans.named("numbers")
    assert json_attr(span, "tracepond.output") == [0, 1, 2]
    assert attr(span, "tracepond.output.yield_count") == 3
    assert attr(span, "tracepond.generator.closed_early") is None


def test_generator_closed_early_by_break(spans: Spans) -> None:
    for value in numbers(10):
        if value == 1:
            break
    gc.collect()
    span = spans.named("numbers")
    assert attr(span, "tracepond.generator.closed_early") is True
    assert attr(span, "tracepond.output.yield_count") == 2
    assert span.status.status_code is StatusCode.UNSET
    assert len(spans.all_named("add")) == 2


def test_generator_closed_explicitly_and_by_garbage_collection(spans: Spans) -> None:
    closed = numbers(5)
    assert next(closed) == 0
    closed.close()
    collected = numbers(5)
    assert next(collected) == 0
    del collected
    gc.collect()
    ended = spans.all_named("numbers")
    assert len(ended) == 2
    assert all(attr(s, "tracepond.generator.closed_early") is True for s in ended)


def test_generator_never_started_makes_no_span(spans: Spans) -> None:
    numbers(3).close()
    assert spans.all() == ()


def test_generator_error_and_return_value_and_send(spans: Spans) -> None:
    @trace(name="echo")
    def echo() -> Generator[Any, Any, str]:
        received = yield "ready"
        while received != "stop":
            if received == "fail":
                raise RuntimeError("asked to fail")
            received = yield f"got {received}"
        return "done"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("a") == "got a"
    with pytest.raises(StopIteration) as stop:
        gen.send("stop")
    assert stop.value.value == "done"

    failing = echo()
    next(failing)
    with pytest.raises(RuntimeError, match="asked to fail"):
        failing.send("fail")

    ok_span, bad_span = spans.all_named("echo")
    assert ok_span.status.status_code is StatusCode.UNSET
    assert json_attr(ok_span, "tracepond.output") == ["ready", "got a"]
    assert bad_span.status.status_code is StatusCode.ERROR
    assert attr(bad_span, "error.type") == "RuntimeError"


def test_exception_thrown_into_generator_reaches_the_body(spans: Spans) -> None:
    @trace(name="resilient")
    def resilient() -> Generator[str, None, None]:
        try:
            yield "first"
        except KeyError:
            yield "handled"

    gen = resilient()
    assert next(gen) == "first"
    assert gen.throw(KeyError("k")) == "handled"
    with pytest.raises(StopIteration):
        next(gen)
    assert json_attr(spans.named("resilient"), "tracepond.output") == ["first", "handled"]


@trace(name="stream_tokens", kind="chat")
async def stream_tokens(prompt: str) -> AsyncGenerator[str, None]:
    for token in prompt.split():
        await asyncio.sleep(0)
        add(len(token))
        yield token


async def test_async_generator_full_and_nested(spans: Spans) -> None:
    tokens = [token async for token in stream_tokens("a bb ccc")]
    assert tokens == ["a", "bb", "ccc"]
    assert spans.tree() == [("stream_tokens", [("add", []), ("add", []), ("add", [])])]
    span = spans.named("stream_tokens")
    # A chat step's streamed text is its reply: joined, as the assistant's output message.
    assert json_attr(span, "tracepond.output") == "abbccc"
    assert attr(span, "tracepond.output.yield_count") == 3
    assert json_attr(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "abbccc"}]}
    ]
    assert json_attr(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "a bb ccc"}]}
    ]


async def test_async_generator_aclose_and_error(spans: Spans) -> None:
    agen = stream_tokens("one two three")
    assert await agen.__anext__() == "one"
    await agen.aclose()

    @trace(name="broken_stream")
    async def broken_stream() -> AsyncGenerator[int, None]:
        yield 1
        raise OSError("connection reset")

    with pytest.raises(OSError, match="connection reset"):
        async for _ in broken_stream():
            pass
    closed = spans.named("stream_tokens")
    assert attr(closed, "tracepond.generator.closed_early") is True
    assert attr(closed, "tracepond.output.yield_count") == 1
    broken = spans.named("broken_stream")
    assert broken.status.status_code is StatusCode.ERROR


async def test_async_generator_break_then_garbage_collected(spans: Spans) -> None:
    async for token in stream_tokens("x y z"):
        if token == "x":
            break
    gc.collect()
    for _ in range(3):  # the event loop's asyncgen finalizer schedules aclose()
        await asyncio.sleep(0)
    assert attr(spans.named("stream_tokens"), "tracepond.generator.closed_early") is True


def test_capture_off_and_redaction(spans: Spans) -> None:
    @trace(capture=False)
    def secret(password: str) -> str:
        return password[::-1]

    @trace(redact=["api_key", "Token"])
    def login(user: str, api_key: str, extra: dict[str, str]) -> dict[str, str]:
        return {"user": user, "token": "t-123"}

    @trace(capture_output=False)
    def half(x: int) -> int:
        return x

    assert secret("hunter2") == "2retnuh"
    assert login("ann", "sk-1", {"token": "abc", "keep": "me"}) == {"user": "ann", "token": "t-123"}
    assert half(3) == 3
    hidden = spans.all()[0]
    assert attr(hidden, "tracepond.input") is None
    assert attr(hidden, "tracepond.output") is None
    login_span = spans.named("test_capture_off_and_redaction.<locals>.login")
    assert json_attr(login_span, "tracepond.input") == {
        "user": "ann",
        "api_key": "[REDACTED]",
        "extra": {"token": "[REDACTED]", "keep": "me"},
    }
    assert json_attr(login_span, "tracepond.output") == {"user": "ann", "token": "[REDACTED]"}
    half_span = spans.named("test_capture_off_and_redaction.<locals>.half")
    assert json_attr(half_span, "tracepond.input") == {"x": 3}
    assert attr(half_span, "tracepond.output") is None


def test_decorated_function_keeps_its_metadata() -> None:
    assert add.__name__ == "add"
    assert numbers.__wrapped__.__name__ == "numbers"  # type: ignore[attr-defined]
    assert asyncio.iscoroutinefunction(stream_tokens) is False
    import inspect

    assert inspect.isasyncgenfunction(stream_tokens)
    assert inspect.isgeneratorfunction(numbers)
