"""OpenLLMetry / Traceloop: legacy indexed prompts, new JSON form, entity envelopes."""

from __future__ import annotations

import json

from .helpers import event, text, view


def test_legacy_indexed_prompt_and_completion() -> None:
    got = view(
        {
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",  # capitalized before 0.55
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "Weather in Paris?",
            "gen_ai.prompt.1.role": "tool",
            "gen_ai.prompt.1.content": "14C",
            "gen_ai.prompt.1.tool_call_id": "call_0",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": "tool_calls",
            "gen_ai.completion.0.tool_calls.0.id": "call_1",
            "gen_ai.completion.0.tool_calls.0.name": "get_weather",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
            "gen_ai.usage.prompt_tokens": 12,
            "gen_ai.usage.completion_tokens": 3,
            "llm.usage.total_tokens": 15,
            "gen_ai.usage.cache_read_input_tokens": 4,
            "llm.top_k": 5,
            "llm.is_streaming": False,
        },
        name="openai.chat",
    )
    assert got.category == "llm"
    assert (got.model, got.provider) == ("gpt-4o", "openai")
    assert got.input_messages == [
        text("user", "Weather in Paris?"),
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_0", "response": "14C"}],
        },
    ]
    assert got.output_messages == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris"},
                }
            ],
            "finish_reason": "tool_calls",
        }
    ]
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (12, 3, 15)
    assert got.usage.cache_read_tokens == 4
    assert got.invocation_parameters == {"top_k": 5.0, "stream": False}


def test_legacy_multipart_content_is_a_json_string() -> None:
    content = json.dumps(
        [{"type": "text", "text": "Describe"}, {"type": "image_url", "image_url": {}}]
    )
    got = view(
        {
            "llm.request.type": "chat",
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": content,
        }
    )
    assert got.input_messages is not None
    parts = got.input_messages[0]["parts"]
    assert parts[0] == {"type": "text", "content": "Describe"}
    assert parts[1]["type"] == "image_url"


def test_legacy_rerank_and_embedding_request_types() -> None:
    assert view({"llm.request.type": "embedding"}).category == "embedding"
    assert view({"llm.request.type": "rerank"}).category == "reranker"


def test_span_kind_task_is_weak_and_has_no_llm_value() -> None:
    assert view({"traceloop.span.kind": "task"}).category == "chain"
    # a task span that is really a retriever (LangChain) is classified by the operation name
    retriever = {"traceloop.span.kind": "task", "gen_ai.operation.name": "vector_db_retrieve"}
    assert view(retriever).category == "retriever"
    assert view({"traceloop.span.kind": "workflow"}).category == "chain"
    assert view({"traceloop.span.kind": "agent"}).category == "agent"
    assert view({"traceloop.span.kind": "unknown"}).category == "unknown"


def test_new_form_with_framework_as_provider() -> None:
    got = view(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "langchain",  # framework, not the model vendor (pitfall 4)
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.reasoning_tokens": 7,
            "traceloop.association.properties.user_id": "u_42",
            "traceloop.association.properties.tenant": "acme",
        }
    )
    assert got.provider is None
    assert got.usage.reasoning_tokens == 7
    assert got.user_id == "u_42"
    assert got.metadata == {"user_id": "u_42", "tenant": "acme"}


def test_decorated_tool_with_positional_args_keeps_the_envelope() -> None:
    got = view(
        {
            "traceloop.span.kind": "tool",
            "traceloop.entity.name": "get_weather",
            "traceloop.entity.input": '{"args": ["Paris"], "kwargs": {}}',
        },
        name="get_weather.tool",
    )
    assert got.tool is not None
    assert (got.tool.name, got.tool.arguments) == ("get_weather", {"args": ["Paris"], "kwargs": {}})


def test_vector_db_query_result_events() -> None:
    events = [
        event(
            "db.query.result",
            **{
                "db.query.result.id": "a",
                "db.query.result.distance": 0.1,
                "db.query.result.document": "doc a",
                "db.query.result.metadata": '{"k": 1}',
            },
        ),
        event("db.query.result", **{"db.query.result.id": "b"}),
    ]
    got = view({"db.system": "chroma"}, name="chroma.query", events=events)
    assert got.documents == [
        {"id": "a", "content": "doc a", "score": None, "metadata": {"k": 1, "distance": 0.1}},
        {"id": "b", "content": None, "score": None, "metadata": None},
    ]


def test_guardrail_operation() -> None:
    assert view({"gen_ai.operation.name": "guardrail.run"}).category == "guardrail"
