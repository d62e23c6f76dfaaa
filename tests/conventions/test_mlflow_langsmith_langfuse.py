"""MLflow (JSON-quoted values), LangSmith (repr details, joined tags), Langfuse (JSON maps)."""

from __future__ import annotations

import json

import pytest

from .helpers import text, view


@pytest.mark.parametrize(
    ("span_type", "category"),
    [
        ('"LLM"', "llm"),
        ('"CHAT_MODEL"', "llm"),
        ('"RETRIEVER"', "retriever"),
        ('"RERANKER"', "reranker"),
        ('"PARSER"', "chain"),
        ('"WORKFLOW"', "chain"),
        ('"GUARDRAIL"', "guardrail"),
        ('"EVALUATOR"', "evaluator"),
        ('"MEMORY"', "unknown"),
        ('"my custom type"', "unknown"),
        ("TOOL", "tool"),  # unquoted too
    ],
)
def test_mlflow_span_types_arrive_json_quoted(span_type: str, category: str) -> None:
    assert view({"mlflow.spanType": span_type}).category == category


def test_mlflow_llm_span() -> None:
    got = view(
        {
            "mlflow.spanType": '"CHAT_MODEL"',
            "mlflow.spanInputs": json.dumps({"messages": [{"role": "user", "content": "hi"}]}),
            "mlflow.spanOutputs": json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": "yo"}}]}
            ),
            "mlflow.chat.tokenUsage": (
                '{"input_tokens": "1200", "output_tokens": 85.0, "total_tokens": 1285,'
                ' "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 5}'
            ),
            "mlflow.llm.model": '"gpt-4o"',
            "mlflow.llm.provider": '"openai"',
            "mlflow.llm.cost": '{"input_cost": 0.01, "output_cost": 0.02, "total_cost": 0.03}',
            "mlflow.trace.session": '"conv_1"',
            "mlflow.traceTag.team": '"search"',
        }
    )
    assert (got.category, got.model, got.provider) == ("llm", "gpt-4o", "openai")
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (1200, 85, 1285)
    assert (got.usage.cache_read_tokens, got.usage.cache_write_tokens) == (1000, 5)
    assert got.cost == 0.03
    assert got.input_messages == [text("user", "hi")]
    assert got.output_messages == [text("assistant", "yo")]
    assert got.session_id == "conv_1"
    assert got.metadata == {"team": "search"}


def test_mlflow_retriever_outputs_are_documents() -> None:
    got = view(
        {
            "mlflow.spanType": '"RETRIEVER"',
            "mlflow.spanInputs": '{"query": "q"}',
            "mlflow.spanOutputs": json.dumps(
                [{"page_content": "a", "metadata": {"doc_uri": "u"}, "id": "1"}]
            ),
        }
    )
    assert got.documents == [
        {"id": "1", "content": "a", "score": None, "metadata": {"doc_uri": "u"}}
    ]


def test_langsmith_llm_span() -> None:
    got = view(
        {
            "langsmith.span.kind": "llm",
            "gen_ai.operation.name": "chat",
            "gen_ai.system": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 30,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.usage.input_token_details": "{'cache_read': 10, 'cache_creation': 2}",
            "gen_ai.usage.output_token_details": "{'reasoning': 3}",
            "langsmith.metadata.ls_provider": "anthropic",
            "langsmith.metadata.conversation_id": "conv_9",
            "langsmith.trace.session_id": "project-uuid",  # the project, not a conversation
            "langsmith.span.tags": "a, b,,c",
        }
    )
    assert got.provider == "anthropic"  # ls_provider beats the guessed gen_ai.system
    assert (got.usage.cache_read_tokens, got.usage.cache_write_tokens) == (10, 2)
    assert got.usage.reasoning_tokens == 3
    assert got.session_id == "conv_9"
    assert got.tags == ["a", "b", "c"]


def test_langsmith_session_is_never_the_project() -> None:
    got = view({"langsmith.span.kind": "chain", "langsmith.trace.session_id": "project-uuid"})
    assert got.session_id is None


def test_langsmith_retriever_labelled_embeddings_stays_retriever() -> None:
    got = view({"langsmith.span.kind": "retriever", "gen_ai.operation.name": "embeddings"})
    assert got.category == "retriever"


def test_langfuse_generation() -> None:
    got = view(
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.model.name": "gpt-4o",
            "langfuse.observation.model.parameters": '{"temperature": 0.2}',
            "langfuse.observation.input": '[{"role": "user", "content": "hi"}]',
            "langfuse.observation.output": '{"role": "assistant", "content": "yo"}',
            "langfuse.observation.usage_details": '{"input": 1200, "output": 85, "total": 1285}',
            "langfuse.observation.cost_details": '{"total": 0.0041}',
            "langfuse.observation.metadata.env": '"prod"',
            "langfuse.trace.tags": ["beta"],
            "session.id": "conv_1",
            "user.id": "u_42",
        }
    )
    assert (got.category, got.model) == ("llm", "gpt-4o")
    assert got.invocation_parameters == {"temperature": 0.2}
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (1200, 85, 1285)
    assert got.cost == 0.0041
    assert got.input_messages == [text("user", "hi")]
    assert got.output_messages == [text("assistant", "yo")]
    assert got.metadata == {"env": "prod"}
    assert (got.tags, got.session_id, got.user_id) == (["beta"], "conv_1", "u_42")


def test_langfuse_level_error_without_status() -> None:
    got = view(
        {
            "langfuse.observation.type": "span",
            "langfuse.observation.level": "ERROR",
            "langfuse.observation.status_message": "rate limited",
        }
    )
    assert got.error is not None and got.error.message == "rate limited"
    assert got.category == "unknown"  # "span" is generic


def test_langfuse_older_session_and_user_names() -> None:
    got = view(
        {"langfuse.observation.type": "tool", "langfuse.session.id": "s", "langfuse.user.id": "u"}
    )
    assert (got.category, got.session_id, got.user_id) == ("tool", "s", "u")
