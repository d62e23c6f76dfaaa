"""The shortcuts that make normalization cheap never change its result.

* The per-key-set plan skips the assembly steps that have no source on a span's keys, returns a
  bare view for spans whose keys no table names (the inert fast path), decides the category from
  the keys alone when no kind attribute is present, and parses a value once when several fields
  read it with the same parser. ``_general`` turns those shortcuts off; both must agree.
* Columns-only mode counts documents instead of building them: the count must equal the full
  view's document list length, whatever the values hold.
* ``SpanView.to_dict`` copies values without ``dataclasses.asdict``: same result, fresh objects.
* ``normalize_fields`` is ``normalize`` without a SpanInput.
"""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

import pytest

from tracepond.conventions import (
    SpanInput,
    SpanView,
    _collect,
    _normalize,
    normalize,
    normalize_fields,
    normalize_strict,
)
from tracepond.conventions._collect import Plan

from .otlp_fixtures import FIXTURES, load
from .test_fuzz import KNOWN_KEYS, PREFIXED_KEYS, _random_value

PRODUCERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "scripts")


def _general(plan: Plan) -> Plan:
    """The same plan with every shortcut off: not inert, every step run, no value shared."""
    by_field = {field: (position, parse) for field, position, parse in plan.singles}
    by_field.update({f: (p, parse) for f, p, parse in plan.content_singles})
    return dataclasses.replace(
        plan,
        singles=plan.singles + tuple((f, *by_field[source]) for f, source in plan.copies),
        copies=(),
        content_singles=plan.content_singles
        + tuple((f, *by_field[source]) for f, source in plan.content_copies),
        content_copies=(),
        inert=False,
        category_fields=True,
        models=True,
        usage=True,
        cost=True,
        content_step=True,
        documents=True,
        output_documents=True,
        parameters=True,
        context=True,
        error=True,
    )


def _both(span: SpanInput, content: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    fast = normalize_strict(span, content)
    with monkeypatch.context() as patch:
        patch.setattr(_normalize, "plan_for", lambda a: _general(_collect.plan_for(a)))
        general = normalize_strict(span, content)
    # repr: equal values and equal key order (the stored JSON must not change either)
    return repr(fast.to_dict()), repr(general.to_dict())


def _variants(span: SpanInput) -> list[SpanInput]:
    """The span, failed, without events, and with its events only."""
    return [
        span,
        dataclasses.replace(span, status_code=2, status_message="ValueError: boom"),
        dataclasses.replace(span, events=[]),
        dataclasses.replace(span, attributes={}),
    ]


def _rag_spans() -> list[SpanInput]:
    """RAG-shaped OTel GenAI spans like the load generator's (bench/_traces.py)."""
    docs = [
        {"id": f"doc-{i}", "score": 0.9 - i / 10, "content": "x " * 250, "metadata": {"s": i}}
        for i in range(5)
    ]
    messages = [{"role": "user", "parts": [{"type": "text", "content": "What is X?"}]}]
    answer = [
        {"role": "assistant", "parts": [{"type": "text", "content": "Y."}], "finish_reason": "stop"}
    ]
    return [
        SpanInput(
            name="chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.request.temperature": 0.2,
                "gen_ai.request.max_tokens": 1024,
                "gen_ai.usage.input_tokens": 466,
                "gen_ai.usage.output_tokens": 106,
                "gen_ai.response.finish_reasons": ["stop"],
                "gen_ai.input.messages": json.dumps(messages),
                "gen_ai.output.messages": json.dumps(answer),
            },
        ),
        SpanInput(
            name="retrieve vector_store",
            attributes={
                "gen_ai.operation.name": "retrieval",
                "gen_ai.request.top_k": 5,
                "gen_ai.retrieval.query.text": "what is x",
                "gen_ai.retrieval.documents": json.dumps(docs),
            },
        ),
        SpanInput(
            name="execute_tool web_search",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "web_search",
                "gen_ai.tool.call.id": "call_1",
                "gen_ai.tool.call.arguments": '{"query": "x"}',
                "gen_ai.tool.call.result": '[{"title": "t"}]',
            },
        ),
        SpanInput(
            name="invoke_agent rag-agent",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "rag-agent",
                "session.id": "s-1",
                "user.id": "u-1",
                "gen_ai.input.messages": json.dumps(messages),
            },
        ),
        SpanInput(name="chain plan", attributes={"chain.name": "plan", "chain.step": 1}),
        SpanInput(name="GET", attributes={"http.request.method": "GET", "server.port": 443}),
    ]


@pytest.mark.parametrize("producer", [*PRODUCERS, "rag"])
@pytest.mark.parametrize("content", [True, False])
def test_fast_paths_agree_with_the_general_path(
    producer: str, content: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = _rag_spans() if producer == "rag" else [c.span for c in load(producer)]
    for span in spans:
        for variant in _variants(span):
            fast, general = _both(variant, content, monkeypatch)
            assert fast == general, (producer, span.name)


def test_fast_paths_agree_on_random_spans(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    keys = [*KNOWN_KEYS, *PREFIXED_KEYS, "http.method", "chain.name"]
    for _ in range(1500):
        span = _random_span(rng, keys)
        for content in (True, False):
            fast, general = _both(span, content, monkeypatch)
            assert fast == general, span


def test_inert_spans_take_the_fast_path() -> None:
    plan = _collect.plan_for({"http.request.method": "GET", "url.path": "/"})
    assert plan.inert
    assert normalize(SpanInput(name="GET", attributes={"http.request.method": "GET"})) == SpanView()
    # ... but not when their events or status say something
    failed = normalize(SpanInput(name="GET", status_code=2, status_message="Timeout: slow"))
    assert failed.error is not None and failed.error.type == "Timeout"


def test_values_are_read_by_position_whatever_the_key_order() -> None:
    one = {"gen_ai.request.model": "m1", "gen_ai.usage.input_tokens": 3, "x": 1}
    other = dict(reversed(list(one.items())))
    for attributes in (one, other, {**one, "gen_ai.usage.input_tokens": 7}):
        view = normalize_strict(SpanInput(attributes=attributes))
        assert (view.model, view.input_tokens) == ("m1", attributes["gen_ai.usage.input_tokens"])


# --- columns-only document counts ---------------------------------------------------------

_DOCUMENT_KEYS = [
    "gen_ai.retrieval.documents",
    "output.value",
    "openinference.span.kind",
    "retrieval.documents.0.document.content",
    "retrieval.documents.1.document.id",
    "reranker.output_documents.0.document.content",
    "reranker.input_documents.0.document.content",
]
_DOCUMENT_VALUES: list[Any] = [
    None,
    "RETRIEVER",
    "RERANKER",
    "text",
    '[{"id": "a", "content": "x"}, "plain", "[1, 2]", " [3]", "[bad", "{\\"id\\": 1}", 4]',
    '{"documents": [{"page_content": "x"}, ["nested"]]}',
    '[["batch", {"content": "y"}]]',
    [{"content": "native"}, "[]", None],
    [],
    "[]",
]


def test_columns_only_document_count_equals_the_full_view_count() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        attributes = {
            rng.choice(_DOCUMENT_KEYS): rng.choice(_DOCUMENT_VALUES)
            for _ in range(rng.randint(0, 5))
        }
        events = [
            {"name": "db.query.result", "attributes": rng.choice([{}, None, {"x": 1}])}
            for _ in range(rng.choice([0, 0, 1, 2]))
        ]
        span = SpanInput(name="r", attributes=attributes, events=events)
        full = normalize_strict(span)
        columns = normalize_strict(span, content=False)
        count = None if full.documents is None else len(full.documents)
        assert full.document_count == count
        assert columns.document_count == count, span


def test_columns_only_mode_agrees_with_the_full_view_on_random_spans() -> None:
    rng = random.Random(6)
    keys = [*KNOWN_KEYS, *PREFIXED_KEYS]
    for _ in range(2000):
        span = _random_span(rng, keys)
        assert normalize_strict(span, False).columns() == normalize_strict(span).columns(), span


# --- to_dict and normalize_fields ----------------------------------------------------------


def _asdict(view: SpanView) -> dict[str, Any]:
    out = dataclasses.asdict(view)
    if view.usage.is_empty():
        out["usage"] = None
    return out


def _containers(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in _containers(item))]
    if isinstance(value, list | tuple):
        return [value, *(c for item in value for c in _containers(item))]
    if dataclasses.is_dataclass(value):
        return _containers({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return []


def test_to_dict_is_asdict_with_fresh_containers() -> None:
    rng = random.Random(8)
    spans = [c.span for producer in PRODUCERS for c in load(producer)] + _rag_spans()
    spans += [_random_span(rng, [*KNOWN_KEYS, *PREFIXED_KEYS]) for _ in range(500)]
    for span in spans:
        for content in (True, False):
            view = normalize_strict(span, content)
            out = view.to_dict()
            assert repr(out) == repr(_asdict(view)), span.name
            shared = {id(c) for c in _containers(view)} & {id(c) for c in _containers(out)}
            assert not shared, span.name
    odd = SpanView(model=("a", ["b"]), metadata={(1, 2): {"k": [1.5, None]}})  # type: ignore[arg-type]
    assert odd.to_dict() == _asdict(odd)


def test_normalize_fields_is_normalize_without_a_span_input() -> None:
    for producer in PRODUCERS:
        for captured in load(producer):
            span = captured.span
            for content in (True, False):
                fields = normalize_fields(
                    span.name,
                    span.status_code,
                    span.status_message,
                    span.attributes,
                    span.events,
                    content,
                )
                assert fields == normalize(span, content)


def test_normalize_fields_never_raises() -> None:
    weird = normalize_fields(None, 2, None, {"gen_ai.operation.name": object()}, [None], True)  # type: ignore[arg-type]
    assert weird.category == "unknown"


def _random_span(rng: random.Random, keys: list[str]) -> SpanInput:
    attributes = {rng.choice(keys): _random_value(rng, 2) for _ in range(rng.randint(0, 12))}
    names = ["exception", "gen_ai.user.message", "gen_ai.choice", "db.query.result", "x"]
    events = [
        {
            "name": rng.choice(names),
            "attributes": {
                rng.choice([*keys, "exception.type", "body"]): _random_value(rng, 2)
                for _ in range(rng.randint(0, 3))
            },
        }
        for _ in range(rng.choice([0, 0, 1, 2]))
    ]
    return SpanInput(
        name=rng.choice(["r", "", "execute_tool x", "a.tool", "invoke_agent b"]),
        status_code=rng.choice([0, 1, 2]),
        status_message=rng.choice(["", "KeyError: x"]),
        attributes=attributes,
        events=events,
    )
