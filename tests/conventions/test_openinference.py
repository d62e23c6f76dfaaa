"""OpenInference: indexed flattening, JSON-string maps, redaction, rerankers."""

from __future__ import annotations

from .helpers import text, view

CALL = "llm.output_messages.0.message.tool_calls.0.tool_call."


def test_llm_span_indexed_messages_tool_calls_and_multipart_content() -> None:
    got = view(
        {
            "openinference.span.kind": "LLM",
            "llm.system": "openai",
            "llm.provider": "azure",
            "llm.model_name": "gpt-4o-2024-08-06",
            "llm.invocation_parameters": '{"temperature": 0.2, "max_tokens": 512}',
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "You are…",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.contents.0.message_content.type": "text",
            "llm.input_messages.1.message.contents.0.message_content.text": "What is this?",
            "llm.input_messages.1.message.contents.1.message_content.type": "image",
            "llm.input_messages.1.message.contents.1.message_content.image.image.url": "http://x/i.png",
            "llm.output_messages.0.message.role": "assistant",
            f"{CALL}id": "call_1",
            f"{CALL}function.name": "get_weather",
            f"{CALL}function.arguments": '{"city": "Paris"}',
            "llm.token_count.prompt": 1200,
            "llm.token_count.completion": 85,
            "llm.token_count.total": 1285,
            "llm.token_count.prompt_details.cache_read": 1024,
            "llm.token_count.completion_details.reasoning": 12,
            "llm.cost.total": 0.0041,
            "session.id": "conv_1",
            "user.id": "u_42",
            "metadata": '{"env": "prod"}',
            "tag.tags": ["beta"],
        }
    )
    assert got.category == "llm"
    assert got.model == "gpt-4o-2024-08-06"
    assert got.provider == "azure.ai.openai"  # llm.provider (host) beats llm.system (API)
    assert got.invocation_parameters == {"temperature": 0.2, "max_tokens": 512}
    assert got.input_messages == [
        text("system", "You are…"),
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is this?"},
                {"type": "uri", "modality": "image", "uri": "http://x/i.png"},
            ],
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
        }
    ]
    assert (got.usage.input_tokens, got.usage.output_tokens, got.usage.total_tokens) == (
        1200,
        85,
        1285,
    )
    assert (got.usage.cache_read_tokens, got.usage.reasoning_tokens) == (1024, 12)
    assert got.cost == 0.0041
    assert (got.session_id, got.user_id) == ("conv_1", "u_42")
    assert got.metadata == {"env": "prod"}
    assert got.tags == ["beta"]


def test_messages_sorted_by_index_not_by_key_order() -> None:
    got = view(
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.10.message.role": "user",
            "llm.input_messages.10.message.content": "eleventh",
            "llm.input_messages.2.message.role": "user",
            "llm.input_messages.2.message.content": "third",
        }
    )
    assert [m["parts"][0]["content"] for m in got.input_messages or []] == ["third", "eleventh"]


def test_retriever_documents_with_json_metadata() -> None:
    got = view(
        {
            "openinference.span.kind": "RETRIEVER",
            "input.value": "What is X?",
            "retrieval.documents.0.document.id": "doc_1",
            "retrieval.documents.0.document.content": "X is…",
            "retrieval.documents.0.document.score": "0.92",
            "retrieval.documents.0.document.metadata": '{"source": "kb.pdf"}',
            "retrieval.documents.1.document.id": "doc_2",
            "retrieval.documents.1.document.metadata": "{not json",
        }
    )
    assert got.category == "retriever" and got.input == "What is X?"
    assert got.documents == [
        {"id": "doc_1", "content": "X is…", "score": 0.92, "metadata": {"source": "kb.pdf"}},
        {"id": "doc_2", "content": None, "score": None, "metadata": None},
    ]
    assert got.document_count == 2


def test_reranker_input_and_output_documents() -> None:
    got = view(
        {
            "openinference.span.kind": "RERANKER",
            "reranker.query": "q",
            "reranker.model_name": "rerank-v3",
            "reranker.input_documents.0.document.id": "a",
            "reranker.input_documents.1.document.id": "b",
            "reranker.output_documents.0.document.id": "b",
            "reranker.output_documents.0.document.score": 0.7,
        }
    )
    assert (got.category, got.model, got.input) == ("reranker", "rerank-v3", "q")
    assert [d["id"] for d in got.input_documents or []] == ["a", "b"]
    assert got.documents == [{"id": "b", "content": None, "score": 0.7, "metadata": None}]


def test_tool_parameters_is_a_schema_not_the_arguments() -> None:
    got = view(
        {
            "openinference.span.kind": "TOOL",
            "tool.name": "get_weather",
            "tool.parameters": '{"type": "object", "properties": {"city": {}}}',
            "input.value": '{"city": "Paris"}',
            "input.mime_type": "application/json",
            "output.value": '{"temp_c": 14}',
        }
    )
    assert got.tool is not None
    assert got.tool.arguments == {"city": "Paris"}
    assert got.tool.result == {"temp_c": 14}


def test_redacted_content_is_marked_not_empty() -> None:
    got = view(
        {
            "openinference.span.kind": "LLM",
            "input.value": "__REDACTED__",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "__REDACTED__",
            "llm.token_count.prompt": 3,
        }
    )
    assert got.input is None
    assert got.input_messages == [
        {"role": "user", "parts": [{"type": "text", "content": None, "redacted": True}]}
    ]
    assert got.withheld is not None
    assert got.withheld["input"] == "redacted"
    assert got.withheld["input_messages"] == "redacted"


def test_completions_api_prompts_and_choices() -> None:
    got = view(
        {
            "openinference.span.kind": "LLM",
            "llm.prompts.0.prompt.text": "Once upon",
            "llm.choices.0.completion.text": " a time",
        }
    )
    assert got.input_messages == [text("user", "Once upon")]
    assert got.output_messages == [text("assistant", " a time")]


def test_cost_summed_from_parts_when_no_total() -> None:
    got = view(
        {"openinference.span.kind": "LLM", "llm.cost.prompt": 0.25, "llm.cost.completion": "0.5"}
    )
    assert got.cost == 0.75


def test_embedding_span() -> None:
    got = view({"openinference.span.kind": "EMBEDDING", "embedding.model_name": "e5"})
    assert (got.category, got.model) == ("embedding", "e5")
