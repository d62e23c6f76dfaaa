"""The stored view names a raw attribute instead of repeating it, only when they are equal."""

from __future__ import annotations

from typing import Any

import orjson

from tracepond.conventions import normalize_fields, view_from_json, view_json
from tracepond.conventions._stored import REFERENCE

MESSAGES = [
    {"role": "system", "parts": [{"type": "text", "content": "Answer briefly."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Weather in Oslo?"}]},
]
DOCUMENTS = [{"id": "d1", "content": "Oslo is cold.", "score": 0.9, "metadata": {"page": 1}}]


def _stored(attributes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    view = normalize_fields("chat gpt-4o-mini", 0, "", attributes, [])
    text = view_json(view, attributes)
    assert text is not None
    expected = orjson.loads(orjson.dumps(view.to_dict()))
    return orjson.loads(text), view_from_json(text, attributes), expected


def test_genai_json_content_is_stored_as_references_and_reads_back_whole() -> None:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.input.messages": orjson.dumps(MESSAGES).decode(),
        "gen_ai.retrieval.documents": orjson.dumps(DOCUMENTS).decode(),
    }
    raw, read_back, expected = _stored(attributes)
    assert raw["input_messages"] == {REFERENCE: "gen_ai.input.messages"}
    assert raw["documents"] == {REFERENCE: "gen_ai.retrieval.documents"}
    assert read_back == expected
    assert read_back["input_messages"] == MESSAGES


def test_content_that_normalization_changed_is_stored_in_full() -> None:
    # OpenInference's indexed messages: no single attribute holds the normalized list.
    attributes = {
        "openinference.span.kind": "LLM",
        "llm.input_messages.0.message.role": "user",
        "llm.input_messages.0.message.content": "Weather in Oslo?",
    }
    raw, read_back, expected = _stored(attributes)
    assert isinstance(raw["input_messages"], list)
    assert read_back == expected


def test_a_genai_attribute_that_normalizes_differently_is_not_referenced() -> None:
    # A bare string content is normalized into a text part: not equal, so stored in full.
    loose = [{"role": "user", "content": "Weather in Oslo?"}]
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": orjson.dumps(loose).decode(),
    }
    raw, read_back, expected = _stored(attributes)
    assert raw["input_messages"] != {REFERENCE: "gen_ai.input.messages"}
    assert read_back == expected


def test_without_attributes_nothing_is_referenced() -> None:
    attributes = {"gen_ai.input.messages": orjson.dumps(MESSAGES).decode()}
    view = normalize_fields("chat", 0, "", attributes, [])
    text = view_json(view)
    assert text is not None and REFERENCE not in text


def test_a_view_with_only_a_category_is_stored_as_just_that() -> None:
    attributes = {"traceloop.span.kind": "workflow"}
    view = normalize_fields("pipeline", 0, "", attributes, [])
    assert view.category != "unknown"
    text = view_json(view, attributes)
    assert text == orjson.dumps({"category": view.category}).decode()
    assert view_from_json(text, attributes) == orjson.loads(orjson.dumps(view.to_dict()))
    bare = normalize_fields("GET /health", 0, "", {"http.method": "GET"}, [])
    assert view_json(bare) == '{"category":"unknown"}'
