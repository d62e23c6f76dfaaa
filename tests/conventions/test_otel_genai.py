"""OTel GenAI semantic conventions: current names, old names, structured values, old events."""

from __future__ import annotations

import json

import pytest

from .helpers import event, text, view

MESSAGES = [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]


def _chat(**extra: object) -> dict[str, object]:
    return {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", **extra}


@pytest.mark.parametrize(
    "value",
    [
        json.dumps(MESSAGES),  # JSON string (today's producers)
        MESSAGES,  # OTLP arrayValue of kvlistValue (new Python SDK, pitfall 9)
    ],
    ids=["json-string", "structured"],
)
def test_input_messages_as_json_or_structured(value: object) -> None:
    got = view(_chat(**{"gen_ai.input.messages": value}))
    assert got.input_messages == [text("user", "Weather in Paris?")]


def test_input_messages_as_openinference_flattened_keys() -> None:
    # The third form of pitfall 9: the same conversation as flattened OI keys.
    got = view(
        {
            "gen_ai.operation.name": "chat",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "Weather in Paris?",
        }
    )
    assert got.input_messages == [text("user", "Weather in Paris?")]


def test_system_instructions_become_the_leading_system_message() -> None:
    got = view(
        _chat(
            **{
                "gen_ai.system_instructions": '[{"type": "text", "content": "Be brief."}]',
                "gen_ai.input.messages": json.dumps(MESSAGES),
            }
        )
    )
    assert got.input_messages == [text("system", "Be brief."), text("user", "Weather in Paris?")]


def test_tool_call_arguments_as_string_and_ids_with_whitespace() -> None:
    output = [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": " call_1 ", "name": "f", "arguments": '{"a": 1}'},
                {"type": "tool_call_response", "id": "call_0", "result": {"ok": True}},
            ],
            "finish_reason": "tool_call",
        }
    ]
    got = view(_chat(**{"gen_ai.output.messages": json.dumps(output)}))
    assert got.output_messages == [
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "f", "arguments": {"a": 1}},
                # registry example spells it ``result``; the schema says ``response``
                {"type": "tool_call_response", "id": "call_0", "response": {"ok": True}},
            ],
            "finish_reason": "tool_call",
        }
    ]


def test_unknown_part_types_are_kept() -> None:
    parts = [{"type": "blob", "modality": "image", "content": "AAAA"}]
    got = view(_chat(**{"gen_ai.input.messages": [{"role": "user", "parts": parts}]}))
    assert got.input_messages == [{"role": "user", "parts": parts}]


def test_usage_current_and_renamed_names() -> None:
    got = view(
        _chat(
            **{
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 85,
                "gen_ai.usage.cache_read.input_tokens": 1024,
                "gen_ai.usage.cache_creation.input_tokens": 7,
                "gen_ai.usage.reasoning.output_tokens": 30,
            }
        )
    )
    assert got.usage.input_tokens == 1200 and got.usage.output_tokens == 85
    # no total in the spec: input + output, cache and reasoning are already inside them
    assert got.usage.total_tokens == 1285
    assert (got.usage.cache_read_tokens, got.usage.cache_write_tokens) == (1024, 7)
    assert got.usage.reasoning_tokens == 30


def test_cache_write_new_name_beats_old_one() -> None:
    got = view(
        _chat(
            **{
                "gen_ai.usage.cache_write.input_tokens": 5,
                "gen_ai.usage.cache_creation.input_tokens": 9,
            }
        )
    )
    assert got.usage.cache_write_tokens == 5


def test_deprecated_gen_ai_system_and_provider_aliases() -> None:
    assert view({"gen_ai.operation.name": "chat", "gen_ai.system": "az.ai.openai"}).provider == (
        "azure.ai.openai"
    )
    assert view({"gen_ai.operation.name": "chat", "gen_ai.system": "vertex_ai"}).provider == (
        "gcp.vertex_ai"
    )
    # provider.name (>=1.37) wins over the deprecated gen_ai.system
    both = view(_chat(**{"gen_ai.system": "xai"}))
    assert both.provider == "openai"


@pytest.mark.parametrize(
    ("operation", "category"),
    [
        ("chat", "llm"),
        ("text_completion", "llm"),
        ("generate_content", "llm"),
        ("embeddings", "embedding"),
        ("retrieval", "retriever"),
        ("execute_tool", "tool"),
        ("invoke_agent", "agent"),
        ("create_agent", "agent"),
        ("invoke_workflow", "chain"),
        ("apply_guardrail", "guardrail"),
        ("CHAT", "llm"),  # case drift (pitfall 18)
        ("create_memory", "unknown"),
    ],
)
def test_operation_name_categories(operation: str, category: str) -> None:
    assert view({"gen_ai.operation.name": operation}).category == category


def test_category_fallbacks_without_operation_name() -> None:
    # Pydantic AI tool spans set no operation name
    assert view({"gen_ai.tool.name": "search"}).category == "tool"
    assert view({"gen_ai.request.model": "gpt-4o"}).category == "llm"
    assert view({"gen_ai.embeddings.dimension.count": 3}).category == "embedding"
    assert view({"http.method": "GET"}).category == "unknown"


def test_tool_span() -> None:
    got = view(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "call_1",
            "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": '{"temp_c": 14}',
        }
    )
    assert got.tool is not None
    assert (got.tool.name, got.tool.call_id) == ("get_weather", "call_1")
    assert (got.tool.arguments, got.tool.result) == ({"city": "Paris"}, {"temp_c": 14})


def test_retrieval_documents_and_query() -> None:
    got = view(
        {
            "gen_ai.operation.name": "retrieval",
            "gen_ai.retrieval.query.text": "What is X?",
            "gen_ai.retrieval.documents": '[{"id": "d1", "score": 0.9, "source": "kb"}]',
        }
    )
    assert got.input == "What is X?"
    assert got.documents == [
        {"id": "d1", "content": None, "score": 0.9, "metadata": {"source": "kb"}}
    ]


def test_deprecated_per_message_span_events() -> None:
    events = [
        event("gen_ai.system.message", content="Be brief."),
        event("gen_ai.user.message", content="Weather?"),
        event("gen_ai.tool.message", content="14C", id="call_1"),
        event(
            "gen_ai.choice",
            index=0,
            finish_reason="stop",
            message='{"role": "assistant", "content": "Sunny."}',
        ),
    ]
    got = view({"gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o"}, events=events)
    assert got.input_messages == [
        text("system", "Be brief."),
        text("user", "Weather?"),
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "14C"}],
        },
    ]
    assert got.output_messages == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Sunny."}],
            "finish_reason": "stop",
        }
    ]


def test_conversation_id_is_the_session() -> None:
    assert view(_chat(**{"gen_ai.conversation.id": "conv_1"})).session_id == "conv_1"


def test_agent_name() -> None:
    got = view({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"})
    assert (got.category, got.agent_name) == ("agent", "planner")
    assert view({"gen_ai.operation.name": "invoke_agent"}, name="invoke_agent x").agent_name == "x"


def test_inference_details_event_carries_the_conversation() -> None:
    details = event(
        "gen_ai.client.inference.operation.details",
        **{
            "gen_ai.input.messages": json.dumps(MESSAGES),
            "gen_ai.output.messages": [
                {"role": "assistant", "parts": [{"type": "text", "content": "Sunny."}]}
            ],
        },
    )
    got = view(_chat(**{"gen_ai.usage.input_tokens": 3}), events=[details])
    assert got.input_messages == [text("user", "Weather in Paris?")]
    assert got.output_messages == [text("assistant", "Sunny.")]
    assert got.withheld is None


def test_spring_ai_content_events() -> None:
    events = [
        event("gen_ai.content.prompt", **{"gen_ai.prompt": "Weather in Paris?"}),
        event("gen_ai.content.completion", **{"gen_ai.completion": "Sunny."}),
    ]
    got = view(_chat(), events=events)
    assert got.input_messages == [text("user", "Weather in Paris?")]
    assert got.output_messages == [text("assistant", "Sunny.")]
