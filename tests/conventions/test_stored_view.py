"""The stored view: scalar columns plus JSON of the rest, with references to raw attributes that
hold a field verbatim. Whatever is stored must read back as ``SpanView.to_dict()``."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import orjson

from tracepond.conventions import SpanView, normalize_fields, view_from_json, view_json
from tracepond.conventions._model import ErrorInfo, ToolCall, Usage
from tracepond.conventions._stored import (
    ASSEMBLED,
    EXTRA_FIELDS,
    NOTHING_ELSE,
    REFS,
    STORED_IN_COLUMNS,
)

MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "Answer briefly."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
]
DOCUMENTS = [{"id": "d1", "content": "Oslo is cold.", "score": 0.9, "metadata": {"page": 1}}]


def _round_trip(view: SpanView, attributes: dict[str, Any] | None) -> tuple[dict[str, Any], Any]:
    """(the stored JSON, parsed; the view read back from it and the view's columns)."""
    text = view_json(view, attributes)
    assert text is not None
    read_back = view_from_json(text, view.columns(), attributes)
    assert read_back == orjson.loads(orjson.dumps(view.to_dict()))
    return orjson.loads(text), read_back


def _stored(name: str, attributes: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    return _round_trip(normalize_fields(name, 0, "", attributes, []), attributes)


def test_every_view_field_is_stored_exactly_once() -> None:
    parts = [set(EXTRA_FIELDS), set(STORED_IN_COLUMNS), set(ASSEMBLED)]
    assert sum(len(part) for part in parts) == len(set().union(*parts))
    assert set().union(*parts) == {item.name for item in fields(SpanView)}


def test_genai_json_content_is_stored_as_references_and_reads_back_whole() -> None:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": orjson.dumps(MESSAGES).decode(),
        "gen_ai.retrieval.documents": orjson.dumps(DOCUMENTS).decode(),
    }
    raw, read_back = _stored("chat gpt-4o-mini", attributes)
    assert raw[REFS] == {
        "input_messages": "gen_ai.input.messages",
        "documents": "gen_ai.retrieval.documents",
    }
    assert "input_messages" not in raw and "documents" not in raw
    assert read_back["input_messages"] == MESSAGES
    assert read_back["documents"] == DOCUMENTS


def test_column_fields_are_not_repeated_in_the_json() -> None:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.provider.name": "openai",
        "gen_ai.usage.input_tokens": 412,
        "gen_ai.usage.output_tokens": 23,
        "gen_ai.conversation.id": "s-1",
    }
    raw, read_back = _stored("chat gpt-4o-mini", attributes)
    withheld = {"input_messages": "not_captured", "output_messages": "not_captured"}
    assert raw == {"request_model": "gpt-4o-mini", "withheld": withheld}
    assert read_back["model"] == "gpt-4o-mini" and read_back["provider"] == "openai"
    assert read_back["usage"]["input_tokens"] == 412
    assert read_back["session_id"] == "s-1"


def test_tool_call_arguments_and_result_refer_to_their_attributes() -> None:
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "web_search",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.call.arguments": '{"query": "oslo", "max_results": 3}',
        "gen_ai.tool.call.result": '[{"title": "Oslo", "url": "https://example.com"}]',
    }
    raw, read_back = _stored("execute_tool web_search", attributes)
    assert raw["tool"] == {"call_id": "call_1"}
    assert raw[REFS]["tool.arguments"] == "gen_ai.tool.call.arguments"
    assert raw[REFS]["tool.result"] == "gen_ai.tool.call.result"
    # The plain input and output are the same values: they refer to the same attributes.
    assert raw[REFS]["input"] == "gen_ai.tool.call.arguments"
    assert read_back["tool"] == {
        "name": "web_search",
        "call_id": "call_1",
        "arguments": {"query": "oslo", "max_results": 3},
        "result": [{"title": "Oslo", "url": "https://example.com"}],
    }


def test_free_text_input_is_referenced_as_text() -> None:
    attributes = {"openinference.span.kind": "CHAIN", "input.value": "What is X?"}
    raw, read_back = _stored("chain", attributes)
    assert raw == {REFS: {"input": "input.value"}}
    assert read_back["input"] == "What is X?"


def test_content_that_normalization_changed_is_stored_in_full() -> None:
    # OpenInference's indexed messages: no single attribute holds the normalized list.
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Weather in Oslo?",
    }
    raw, _ = _stored("llm", attributes)
    assert isinstance(raw["input_messages"], list)
    assert REFS not in raw


def test_a_genai_attribute_that_normalizes_differently_is_not_referenced() -> None:
    # A bare string content is normalized into a text part: not equal, so stored in full.
    loose = [{"role": "user", "content": "Weather in Oslo?"}]
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": orjson.dumps(loose).decode(),
    }
    raw, _ = _stored("chat", attributes)
    assert raw.get(REFS, {}).get("input_messages") is None
    assert isinstance(raw["input_messages"], list)


def test_a_reference_goes_to_the_first_candidate_that_holds_the_value() -> None:
    # tracepond.input wins the input (precedence); input.value holds other text.
    attributes = {
        "tracepond.span.kind": "chain",
        "tracepond.input": '{"q": 1}',
        "input.value": "something else",
    }
    raw, read_back = _stored("chain", attributes)
    assert raw[REFS] == {"input": "tracepond.input"}
    assert read_back["input"] == {"q": 1}


def test_without_attributes_nothing_is_referenced() -> None:
    attributes = {"gen_ai.input.messages": orjson.dumps(MESSAGES).decode()}
    raw, _ = _round_trip(normalize_fields("chat", 0, "", attributes, []), None)
    assert REFS not in raw and raw["input_messages"] == MESSAGES


def test_a_view_with_nothing_beyond_its_columns_is_stored_as_an_empty_object() -> None:
    attributes = {"traceloop.span.kind": "workflow", "session.id": "s-1"}
    view = normalize_fields("pipeline", 0, "", attributes, [])
    assert view.category != "unknown" and view.session_id == "s-1"
    assert view_json(view, attributes) == NOTHING_ELSE
    _round_trip(view, attributes)
    bare = normalize_fields("GET /health", 0, "", {"http.method": "GET"}, [])
    assert view_json(bare) == NOTHING_ELSE
    _round_trip(bare, None)


def test_tool_error_and_usage_parts_outside_the_columns_survive() -> None:
    view = SpanView(
        "tool",
        usage=Usage(cache_read_tokens=5),
        tool=ToolCall(name=None, call_id=None),
        error=ErrorInfo(type="ValueError", message=None),
    )
    raw, read_back = _round_trip(view, None)
    assert raw == {"usage": {"cache_read_tokens": 5}, "tool": {}, "error": {}}
    assert read_back["tool"] == {"name": None, "call_id": None, "arguments": None, "result": None}
    assert read_back["error"] == {"type": "ValueError", "message": None}
    assert read_back["usage"]["cache_read_tokens"] == 5


def test_a_reference_to_an_attribute_missing_on_read_reads_as_null() -> None:
    attributes = {"openinference.span.kind": "CHAIN", "input.value": "What is X?"}
    view = normalize_fields("chain", 0, "", attributes, [])
    text = view_json(view, attributes)
    assert text is not None
    assert view_from_json(text, view.columns(), {})["input"] is None
