"""Several conventions on one span, and the reference's pitfalls that cut across conventions."""

from __future__ import annotations

from tracepond.conventions import SpanInput, normalize, normalize_strict

from .helpers import event, view


def test_category_precedence_langfuse_then_openinference_then_operation() -> None:
    span = {
        "langfuse.observation.type": "agent",
        "openinference.span.kind": "CHAIN",
        "gen_ai.operation.name": "chat",
    }
    assert view(span).category == "agent"
    del span["langfuse.observation.type"]
    assert view(span).category == "chain"
    del span["openinference.span.kind"]
    assert view(span).category == "llm"


def test_unknown_kind_value_falls_through_to_the_next_source() -> None:
    assert view(
        {"openinference.span.kind": "UNKNOWN", "gen_ai.operation.name": "chat"}
    ).category == ("llm")


def test_openinference_dual_writing_gen_ai_keeps_openinference_values() -> None:
    got = view(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "oi-model",
            "gen_ai.request.model": "genai-model",
            "llm.token_count.prompt": 10,
            "gen_ai.usage.input_tokens": 99,
        }
    )
    assert (got.model, got.input_tokens) == ("oi-model", 10)
    assert got.request_model == "genai-model"


def test_malformed_higher_precedence_value_falls_through() -> None:
    got = view({"llm.token_count.prompt": "n/a", "gen_ai.usage.input_tokens": "12"})
    assert got.input_tokens == 12


def test_numbers_as_strings_doubles_and_quoted_json() -> None:
    got = view(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": "1200",  # OTLP/JSON int64
            "gen_ai.usage.output_tokens": 85.0,  # JS number
            "gen_ai.usage.total_tokens": '"1285"',  # JSON-quoted
            "llm.cost.total": "not a number",
        }
    )
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (1200, 85, 1285)
    assert got.cost is None


def test_values_that_fail_to_parse_leave_fields_empty() -> None:
    got = view(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": -5,
            "gen_ai.usage.output_tokens": True,
            "gen_ai.input.messages": "[{broken",
            "mlflow.chat.tokenUsage": "{broken",
            "llm.invocation_parameters": "[1, 2]",
            "tag.tags": 42,
        }
    )
    assert got.input_tokens is None and got.output_tokens is None
    assert got.input_messages is None
    assert got.invocation_parameters is None and got.tags is None


def test_total_is_not_double_counted_with_cache_or_reasoning() -> None:
    got = view(
        {
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 10,
            "gen_ai.usage.cache_read.input_tokens": 80,
            "gen_ai.usage.reasoning.output_tokens": 5,
        }
    )
    assert got.total_tokens == 110


def test_error_from_exception_event_with_status_unset() -> None:
    events = [event("exception", **{"exception.type": "KeyError", "exception.message": "'x'"})]
    got = view({"gen_ai.operation.name": "execute_tool"}, events=events)
    assert got.error is not None and (got.error.type, got.error.message) == ("KeyError", "'x'")


def test_error_type_from_status_message_prefix() -> None:
    got = normalize_strict(SpanInput(name="x", status_code=2, status_message="ValueError: bad"))
    assert got.error is not None and got.error.type == "ValueError"


def test_ok_spans_have_no_error() -> None:
    assert view({"gen_ai.operation.name": "chat"}, status_code=1).error is None


def test_context_attributes_and_metadata_merge() -> None:
    got = view(
        {
            "metadata": '{"env": "prod", "team": "a"}',
            "langsmith.metadata.team": "b",
            "langsmith.metadata.ls_provider": "openai",
            "langsmith.metadata.revision_id": "abc",
        }
    )
    # the JSON map wins per key; producer bookkeeping keys are dropped
    assert got.metadata == {"env": "prod", "team": "a"}


def test_to_dict_is_json_with_nulls() -> None:
    import json

    got = view({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t"})
    out = got.to_dict()
    json.dumps(out)
    assert out["usage"] is None and out["model"] is None
    assert out["tool"] == {"name": "t", "call_id": None, "arguments": None, "result": None}
    assert got.columns()["tool_name"] == "t"


def test_columns_only_mode_skips_content_but_keeps_columns() -> None:
    span = SpanInput(
        name="chat",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "m",
            "gen_ai.usage.input_tokens": 3,
            "gen_ai.input.messages": '[{"role": "user", "parts": []}]',
        },
    )
    light = normalize(span, content=False)
    assert light.input_messages is None and light.withheld is None
    assert light.columns() == normalize(span).columns()


def test_normalize_never_raises_even_on_wrong_types() -> None:
    weird = SpanInput(
        name=None,  # type: ignore[arg-type]
        attributes={"gen_ai.operation.name": object()},
        events=[None, {"name": "exception", "attributes": None}],  # type: ignore[list-item]
    )
    assert normalize(weird).category == "unknown"


def test_openinference_messages_win_over_their_gen_ai_dual_write() -> None:
    got = view(
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "from OI",
            "gen_ai.input.messages": [
                {"role": "user", "parts": [{"type": "text", "content": "x"}]}
            ],
        }
    )
    assert got.input_messages == [
        {"role": "user", "parts": [{"type": "text", "content": "from OI"}]}
    ]


def test_strict_mode_tolerates_a_missing_name_and_odd_status_values() -> None:
    span = SpanInput(
        name=None,  # type: ignore[arg-type]
        status_code=2,
        status_message=None,  # type: ignore[arg-type]
        attributes={"gen_ai.operation.name": "execute_tool"},
    )
    got = normalize_strict(span)
    assert got.tool is not None and got.tool.name is None
    assert got.error is not None and got.error.message is None
