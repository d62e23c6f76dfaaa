"""The tables are consistent: every referenced field exists and every category is a known one."""

from __future__ import annotations

import pytest

from tracepond.conventions import CATEGORIES, SpanInput, _collect, normalize_strict
from tracepond.conventions._keys import classify
from tracepond.conventions._tables import (
    CATEGORY_HINTS,
    CONTENT_FIELDS,
    FAMILY_CATEGORY,
    FIELD_GROUPS,
    FIELD_SOURCES,
    GENAI_OPERATIONS,
    LANGFUSE_TYPES,
    LANGSMITH_KINDS,
    MLFLOW_SPAN_TYPES,
    OPENINFERENCE_KINDS,
    PROVIDER_ALIASES,
    TRACELOOP_KINDS,
    TRACELOOP_REQUEST_TYPES,
    WEAK_KINDS,
)


def test_every_category_value_is_a_known_category() -> None:
    tables = [
        LANGFUSE_TYPES,
        OPENINFERENCE_KINDS,
        MLFLOW_SPAN_TYPES,
        LANGSMITH_KINDS,
        GENAI_OPERATIONS,
        TRACELOOP_REQUEST_TYPES,
        TRACELOOP_KINDS,
        WEAK_KINDS,
        FAMILY_CATEGORY,
    ]
    for table in tables:
        assert set(table.values()) <= set(CATEGORIES), table
        assert all(key == key.lower() for key in table if table is not FAMILY_CATEGORY)
    for _, parse in CATEGORY_HINTS:
        assert parse("x") in CATEGORIES


def test_grouped_and_content_fields_exist() -> None:
    assert set(FIELD_GROUPS) <= set(FIELD_SOURCES)
    assert set(CONTENT_FIELDS) <= set(FIELD_SOURCES)


def test_no_attribute_is_listed_twice_for_one_field() -> None:
    for field, sources in FIELD_SOURCES.items():
        keys = [key for key, _ in sources]
        assert len(keys) == len(set(keys)), field


def test_provider_aliases_are_lowercase() -> None:
    assert all(key == key.lower() for key in PROVIDER_ALIASES)


def test_key_classification() -> None:
    info = classify("llm.input_messages.12.message.role")
    assert (info.family, info.position, info.rest) == ("oi_input_messages", 12, "message.role")
    assert classify("llm.input_messages.x.message.role").family is None
    meta = classify("langsmith.metadata.thread_id")
    assert meta.family == "metadata" and meta.rest == "thread_id"
    assert {source.field for source in meta.sources} == {"session_id"}
    assert classify("http.method").sources == ()


def test_plan_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_collect, "_PLAN_LIMIT", 8)
    monkeypatch.setattr(_collect, "_plans", {})
    for n in range(50):  # 50 distinct key sets, e.g. chats of growing length
        attributes = {f"llm.input_messages.{i}.message.content": "x" for i in range(n)}
        normalize_strict(SpanInput(attributes={"openinference.span.kind": "LLM", **attributes}))
        assert len(_collect._plans) <= 8
