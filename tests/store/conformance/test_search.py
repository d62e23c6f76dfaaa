"""Trace and span search (``search_traces``, ``search_spans``) over the shared dataset: every
filter of ``query.filters.Filters``, the query language, full text, every sort key in both
directions, keyset pages, counts and their cap; and the ``as_of`` snapshot on a store of its own.

Expected rows come from the seed's declarations: a trace-level filter reads the trace's summary
(``Trace.summary``), and a span-level condition means "the trace has a span that matches"
(docs/query.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id
from tracepond.model.filters import SORT_KEYS, AttrFilter, Filters
from tracepond.model.records import SearchPage, SearchRequest, TraceSummary
from tracepond.query.filters import parse_query
from tracepond.store.contract import Store

from .build import table
from .seed import ACME, EMPTY, T0, S, Seeded, SpanSpec, Trace, comparable

# -- oracles ------------------------------------------------------------------------------------

TRACE_SORT: dict[str, Callable[[TraceSummary], Any]] = {
    "start_time": lambda s: s.start_ns,
    "duration": lambda s: s.end_ns - s.start_ns,
    "tokens": lambda s: s.total_tokens,
    "cost": lambda s: s.cost or 0.0,  # no cost sorts as 0
}
SPAN_SORT: dict[str, Callable[[SpanSpec], Any]] = {
    "start_time": lambda s: s.start_ns,
    "duration": lambda s: s.duration_ns,
    "tokens": lambda s: s.total_tokens or 0,
    "cost": lambda s: s.cost or 0.0,
}


def trace_order(
    traces: list[Trace], sort: str = "start_time", descending: bool = True
) -> list[str]:
    """Sorted by the key, ties by trace id, both in the page's direction."""
    keyed = sorted(
        traces,
        key=lambda t: (TRACE_SORT[sort](t.summary()), t.trace_id),
        reverse=descending,
    )
    return [t.name for t in keyed]


def span_order(
    spans: list[tuple[Trace, SpanSpec]], sort: str = "start_time", descending: bool = True
) -> list[tuple[str, str]]:
    keyed = sorted(
        spans,
        key=lambda ts: (SPAN_SORT[sort](ts[1]), ts[0].trace_id, ts[1].span_id),
        reverse=descending,
    )
    return [(t.name, s.key) for t, s in keyed]


def all_spans(seeded: Seeded) -> list[tuple[Trace, SpanSpec]]:
    return [(t, s) for t in seeded.of() for s in t.spans]


def span_keys(seeded: Seeded, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    keys = {(t.trace_id, s.span_id): (t.name, s.key) for t, s in all_spans(seeded)}
    return [keys[(r["trace_id"], r["span_id"])] for r in rows]


def documents(span: SpanSpec) -> int | None:
    """A retriever span that reported no documents returned none: it counts as 0."""
    if span.category == "retriever":
        return span.document_count or 0
    return span.document_count


def has_tag(span: SpanSpec, tag: str) -> bool:
    return tag in span.attributes.get("tracepond.tags", [])


def between(value: Any, low: Any, high: Any) -> bool:
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def seconds(offset: float) -> int:
    return T0 + round(offset * S)


def search(store: Store, **kwargs: Any) -> SearchPage[TraceSummary]:
    filters = kwargs.pop("filters", None) or Filters(**kwargs.pop("f", {}))
    return store.search_traces(SearchRequest(filters=filters, limit=100, **kwargs))


def found(seeded: Seeded, page: SearchPage[TraceSummary], project: str = "default") -> list[str]:
    return seeded.names([t.trace_id for t in page.rows], project)


# -- trace search: each filter ------------------------------------------------------------------

# (filters, which traces match: a predicate over the trace's summary and spans)
TRACE_CASES: list[tuple[dict[str, Any], Callable[[Trace], bool]]] = [
    ({}, lambda t: True),
    (
        {"since_ns": seconds(20), "until_ns": seconds(70)},
        lambda t: seconds(20) <= t.summary().start_ns <= seconds(70),
    ),
    ({"service": "rag"}, lambda t: t.summary().service_name == "rag"),
    ({"service": "worker-b"}, lambda t: False),  # the stand-in root's service is "worker"
    ({"status": "error"}, lambda t: t.summary().error_count > 0),
    ({"status": "ok"}, lambda t: t.summary().error_count == 0),
    ({"name": "agent.run"}, lambda t: t.summary().root_name == "agent.run"),
    ({"name": "orphan.early"}, lambda t: t.name == "no_root"),
    ({"category": "llm"}, lambda t: t.summary().llm_count > 0),
    ({"category": "tool"}, lambda t: any(s.category == "tool" for s in t.spans)),
    ({"category": "retriever"}, lambda t: any(s.category == "retriever" for s in t.spans)),
    ({"category": "embedding"}, lambda t: any(s.category == "embedding" for s in t.spans)),
    ({"category": "agent"}, lambda t: any(s.category == "agent" for s in t.spans)),
    # The summary's models are the leaf calls' models.
    ({"model": "gpt-4o"}, lambda t: "gpt-4o" in t.summary().models),
    ({"model": "text-embedding-3-small"}, lambda t: t.name == "rag_ok"),
    (
        {"min_duration_ns": 3 * S, "max_duration_ns": 4 * S},
        lambda t: between(t.summary().end_ns - t.summary().start_ns, 3 * S, 4 * S),
    ),
    ({"min_tokens": 48}, lambda t: t.summary().total_tokens >= 48),
    ({"max_tokens": 48}, lambda t: t.summary().total_tokens <= 48),
    ({"min_cost": 0.05, "max_cost": 0.3}, lambda t: between(t.summary().cost, 0.05, 0.3)),
    ({"max_cost": 1.0}, lambda t: t.summary().cost is not None),  # no cost: no match
    (
        {"min_documents": 1},
        lambda t: any(between(documents(s), 1, None) for s in t.spans),
    ),
    ({"max_documents": 0}, lambda t: any(between(documents(s), None, 0) for s in t.spans)),
    ({"session_id": "sess-a"}, lambda t: t.summary().session_id == "sess-a"),
    ({"user_id": "carol"}, lambda t: t.summary().user_id == "carol"),
    ({"tag": "beta"}, lambda t: any(has_tag(s, "beta") for s in t.spans)),
    ({"tag": "prod"}, lambda t: any(has_tag(s, "prod") for s in t.spans)),
    (
        {"service": "rag", "status": "ok", "category": "retriever"},
        lambda t: t.name in ("rag_ok", "rag_empty"),
    ),
]


@pytest.mark.parametrize(("kwargs", "matches"), TRACE_CASES, ids=lambda v: str(v)[:60])
def test_trace_search_by_each_filter(
    seeded: Seeded, kwargs: dict[str, Any], matches: Callable[[Trace], bool]
) -> None:
    page = search(seeded.store, f=kwargs)
    expected = trace_order([t for t in seeded.of() if matches(t)])
    assert found(seeded, page) == expected
    assert (page.count, page.capped, page.next_after) == (len(expected), False, None)
    # Beyond the cases that match nothing on purpose, each filter selects some traces only.
    if kwargs.get("service") != "worker-b":
        assert len(expected) > 0 and (not kwargs or len(expected) < len(seeded.of()))


ATTRIBUTE_CASES = [
    (AttrFilter("retrieval.top_k", "exists"), ["rag_empty", "rag_ok"]),
    (AttrFilter("retrieval.top_k", "eq", "3"), ["rag_empty"]),
    # An absent attribute does not match "not equals": the filter is about spans carrying it.
    (AttrFilter("retrieval.top_k", "ne", "3"), ["rag_ok"]),
    (AttrFilter("retrieval.top_k", "gt", "3"), ["rag_ok"]),
    (AttrFilter("retrieval.top_k", "ge", "3"), ["rag_empty", "rag_ok"]),
    (AttrFilter("retrieval.top_k", "lt", "5"), ["rag_empty"]),
    (AttrFilter("retrieval.top_k", "le", "5"), ["rag_empty", "rag_ok"]),
    (AttrFilter("http.status_code", "ge", "500"), ["agent_err"]),
    (AttrFilter("note", "contains", 'said "hello"'), ["quoted"]),
    (AttrFilter("error.type", "eq", "TimeoutError"), ["agent_err"]),
    (AttrFilter("no.such.key", "exists"), []),
]


@pytest.mark.parametrize(("attribute", "expected"), ATTRIBUTE_CASES, ids=str)
def test_trace_search_by_attribute(
    seeded: Seeded, attribute: AttrFilter, expected: list[str]
) -> None:
    page = search(seeded.store, f={"attributes": (attribute,)})
    assert sorted(found(seeded, page)) == expected
    assert page.count == len(expected)


def test_attribute_filters_combine_with_and(seeded: Seeded) -> None:
    both = (AttrFilter("retrieval.top_k", "exists"), AttrFilter("retrieval.top_k", "lt", "5"))
    assert found(seeded, search(seeded.store, f={"attributes": both})) == ["rag_empty"]


TEXT_CASES = [
    ("reset BY peer", ["agent_err"]),  # an event's attribute, case-insensitive
    ("eiffel tower", ["rag_ok"]),  # a document: JSON text inside a string attribute
    ('said "hello"\nthen', ["quoted"]),  # a quote and a newline, as JSON spells them
    ("call_50%", ["quoted"]),  # LIKE's wildcards, taken literally
    ("call_5%0", []),
    ("vector.search", ["rag_empty", "rag_ok"]),  # a span name
    ("no such text anywhere", []),
]


@pytest.mark.parametrize(("text", "expected"), TEXT_CASES, ids=repr)
def test_trace_search_by_full_text(seeded: Seeded, text: str, expected: list[str]) -> None:
    page = search(seeded.store, f={"text": text})
    assert sorted(found(seeded, page)) == expected
    assert page.count == len(expected)


QUERY_CASES = [
    ('{ category = "retriever" && documents.count = 0 } && { category = "llm" }', ["rag_empty"]),
    ('{ model = "gpt-4o" && duration > 1s }', ["rag_ok"]),
    ('{ name = "agent.run" } >> { category = "tool" && status = error }', ["agent_err"]),
    ('{ name = "agent.run" } > { category = "tool" }', ["agent_err", "no_cost"]),
    ('{ name = "rag.pipeline" } > { category = "embedding" }', []),  # a grandchild only
    ('{ name = "rag.pipeline" } >> { category = "embedding" }', ["rag_ok"]),
    ('{ status = error } || { service = "worker" }', ["agent_err", "no_root", "two_roots"]),
    ('{ resource.service.name = "rag" && name =~ "^vector" }', ["rag_empty", "rag_ok"]),
    ("{ span.retrieval.top_k >= 4 }", ["rag_ok"]),
    ('{ tool.name = "calculator" } || { error.type = "TimeoutError" }', ["agent_err", "no_cost"]),
    ('{ session.id = "sess-a" && kind = server }', ["rag_ok"]),
    ("{ tokens.input > 60 && cost >= 0.5 }", ["rag_ok"]),
    ('{ !(category = "unknown") && service = "batch" }', []),
]


@pytest.mark.parametrize(("text", "expected"), QUERY_CASES, ids=repr)
def test_trace_search_by_query(seeded: Seeded, text: str, expected: list[str]) -> None:
    page = search(seeded.store, f={"query": parse_query(text)})
    assert sorted(found(seeded, page)) == expected
    assert page.count == len(expected)


def test_a_query_and_filters_combine(seeded: Seeded) -> None:
    filters = Filters(query=parse_query('{ category = "llm" }'), service="rag", status="ok")
    assert found(seeded, search(seeded.store, filters=filters)) == trace_order(
        [seeded["dup"], seeded["rag_empty"], seeded["rag_ok"]]
    )


# -- sorting and paging -------------------------------------------------------------------------

PAGINGS = [
    pytest.param(Filters(), id="summaries"),
    # A span-level condition matching every trace: the store pages the semi-join's matches.
    pytest.param(Filters(query=parse_query("{ }")), id="span-scan"),
]


def pages(
    fetch: Callable[[SearchRequest], SearchPage[Any]], request: SearchRequest
) -> list[SearchPage[Any]]:
    out = [fetch(request)]
    while out[-1].next_after is not None:
        assert len(out) < 50
        last = out[-1]
        out.append(fetch(replace(request, after=last.next_after)))
    return out


@pytest.mark.parametrize("filters", PAGINGS)
@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", SORT_KEYS)
def test_trace_pages_in_every_order(
    seeded: Seeded, sort: str, descending: bool, filters: Filters
) -> None:
    request = SearchRequest(filters, sort, descending, limit=3)
    got = pages(seeded.store.search_traces, request)
    expected = trace_order(seeded.of(), sort, descending)
    assert [len(p.rows) for p in got] == [3, 3, 3, 1]
    assert [found(seeded, p) for p in got] == [expected[i : i + 3] for i in range(0, 10, 3)]
    assert {(p.count, p.capped, p.as_of) for p in got} == {(10, False, got[0].as_of)}


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", SORT_KEYS)
def test_span_pages_in_every_order(seeded: Seeded, sort: str, descending: bool) -> None:
    request = SearchRequest(Filters(), sort, descending, limit=4)
    got = pages(seeded.store.search_spans, request)
    expected = span_order(all_spans(seeded), sort, descending)
    assert [span_keys(seeded, p.rows) for p in got] == [
        expected[i : i + 4] for i in range(0, len(expected), 4)
    ]
    assert {(p.count, p.capped) for p in got} == {(26, False)}


def test_counts_are_capped(seeded: Seeded) -> None:
    for cap, count, capped in ((3, 3, True), (9, 9, True), (10, 10, False), (100, 10, False)):
        for filters in (Filters(), Filters(query=parse_query("{ }"))):
            page = seeded.store.search_traces(SearchRequest(filters, limit=2, count_cap=cap))
            assert (page.count, page.capped, len(page.rows)) == (count, capped, 2)
    spans = seeded.store.search_spans(SearchRequest(Filters(), limit=2, count_cap=25))
    assert (spans.count, spans.capped) == (25, True)


def test_trace_search_fills_previews_and_tags(seeded: Seeded) -> None:
    page = search(seeded.store, f={"session_id": "sess-a"})
    rows = {r.trace_id: r for r in page.rows}
    rag = rows[seeded["rag_ok"].trace_id]
    # The root's plain input and output, first line only; its tags.
    assert (rag.input_preview, rag.output_preview, rag.tags) == (
        "What is the capital of France?",
        "The capital is Paris.",
        ("prod",),
    )
    other = rows[seeded["agent_err"].trace_id]
    assert (other.input_preview, other.output_preview, other.tags) == (None, None, ())
    assert comparable(rag) == comparable(seeded["rag_ok"].summary())


def test_search_stays_within_its_project(seeded: Seeded) -> None:
    acme = search(seeded.store, f={"project": ACME})
    assert found(seeded, acme, ACME) == trace_order(seeded.of(ACME))
    assert comparable(acme.rows[1]) == comparable(seeded["acme_rag"].summary())
    assert search(seeded.store, f={"project": ACME, "session_id": "sess-a"}).count == 1
    assert search(seeded.store, f={"project": ACME, "text": "eiffel"}).count == 0
    assert search(seeded.store, f={"project": EMPTY}).count == 0
    spans = seeded.store.search_spans(SearchRequest(Filters(project=ACME), limit=100))
    assert sorted(r["name"] for r in spans.rows) == ["acme.root", "acme.tick", "chat"]
    assert seeded.store.search_spans(SearchRequest(Filters(project=EMPTY))).rows == []


# -- span search: each filter -------------------------------------------------------------------

SPAN_CASES: list[tuple[dict[str, Any], Callable[[Trace, SpanSpec], bool]]] = [
    (
        {"since_ns": seconds(20), "until_ns": seconds(31)},
        lambda t, s: seconds(20) <= s.start_ns <= seconds(31),
    ),
    ({"service": "worker-b"}, lambda t, s: t.service_of(s) == "worker-b"),
    ({"status": "error"}, lambda t, s: s.is_error),
    ({"status": "ok"}, lambda t, s: not s.is_error),
    ({"name": "chat"}, lambda t, s: s.name == "chat"),
    ({"category": "llm"}, lambda t, s: s.category == "llm"),
    ({"category": "unknown"}, lambda t, s: s.category == "unknown"),
    ({"model": "gpt-4o"}, lambda t, s: s.model == "gpt-4o"),
    (
        {"min_duration_ns": S, "max_duration_ns": 2 * S},
        lambda t, s: between(s.duration_ns, S, 2 * S),
    ),
    ({"min_tokens": 24, "max_tokens": 60}, lambda t, s: between(s.total_tokens, 24, 60)),
    ({"min_cost": 0.1}, lambda t, s: between(s.cost, 0.1, None)),
    ({"max_documents": 1}, lambda t, s: between(documents(s), None, 1)),
    ({"min_documents": 1}, lambda t, s: between(documents(s), 1, None)),
    # Session and user are the trace's: every span of its traces.
    ({"session_id": "sess-a"}, lambda t, s: t.session_id == "sess-a"),
    ({"user_id": "carol"}, lambda t, s: t.user_id == "carol"),
    ({"tag": "prod"}, lambda t, s: has_tag(s, "prod")),
    (
        {"attributes": (AttrFilter("retrieval.top_k", "gt", "3"),)},
        lambda t, s: t.name == "rag_ok" and s.key == "retrieve",
    ),
    ({"text": "RESET by"}, lambda t, s: s.key == "search"),
    # The root's input, and both retrievers' query text.
    (
        {"text": "capital"},
        lambda t, s: s.key == "retrieve" or (t.name, s.key) == ("rag_ok", "root"),
    ),
    (
        {"query": parse_query('{ name = "agent.run" } > { category = "tool" }')},
        lambda t, s: s.category == "tool",
    ),
    # Both operands' spans: each selector's matches.
    (
        {"query": parse_query('{ category = "retriever" } && { model = "gpt-4o-mini" }')},
        lambda t, s: t.name == "rag_empty" and s.key in ("retrieve", "chat"),
    ),
    (
        {"query": parse_query("{ duration > 3s }"), "service": "rag"},
        lambda t, s: (t.name, s.key) == ("rag_ok", "root"),
    ),
]


@pytest.mark.parametrize(("kwargs", "matches"), SPAN_CASES, ids=lambda v: str(v)[:60])
def test_span_search_by_each_filter(
    seeded: Seeded, kwargs: dict[str, Any], matches: Callable[[Trace, SpanSpec], bool]
) -> None:
    page = seeded.store.search_spans(SearchRequest(Filters(**kwargs), limit=100))
    expected = span_order([(t, s) for t, s in all_spans(seeded) if matches(t, s)])
    assert span_keys(seeded, page.rows) == expected
    assert (page.count, page.capped, page.next_after) == (len(expected), False, None)


def test_a_span_hit_carries_its_trace_id_view_and_attributes(seeded: Seeded) -> None:
    page = seeded.store.search_spans(SearchRequest(Filters(name="embed.query")))
    (hit,) = page.rows
    rag = seeded["rag_ok"]
    spec = rag.span("embed")
    assert (hit["trace_id"], hit["span_id"], hit["parent_span_id"]) == (
        rag.trace_id,
        spec.span_id,
        rag.span("retrieve").span_id,
    )
    assert (hit["category"], hit["model"], hit["input_tokens"], hit["cost"]) == (
        "embedding",
        "text-embedding-3-small",
        8,
        0.0001,
    )
    assert (hit["service_name"], hit["duration_ns"], hit["status_code"]) == ("rag", S // 10, 0)
    assert '"gen_ai.usage.input_tokens":8' in hit["attributes_json"]


# -- the snapshot (a store of its own: it writes between pages) --------------------------------


def test_later_pages_see_only_what_the_first_page_saw(store: Store) -> None:
    early = [trace_id() for _ in range(4)]
    for i, trace in enumerate(early):
        store.write([table(make_span(trace, span_id(), "job", start=BASE_NS + i))])
    first = store.search_traces(SearchRequest(Filters(), limit=2))
    assert first.count == 4 and first.next_after is not None
    first_spans = store.search_spans(SearchRequest(Filters(), limit=2))
    # Newer traces (they would sort first), and a span reaching a listed trace, after the page.
    later = [trace_id() for _ in range(3)]
    for i, trace in enumerate(later):
        store.write([table(make_span(trace, span_id(), "job", start=BASE_NS + 100 + i))])
    store.write([table(make_span(early[0], span_id(), "needle", start=BASE_NS + 50))])

    def rest(fetch: Any, page: SearchPage[Any], filters: Filters) -> list[Any]:
        request = SearchRequest(filters, limit=2, after=page.next_after)
        return pages(fetch, request)

    second = rest(store.search_traces, first, Filters())
    assert {p.count for p in second} == {4}
    listed = [t.trace_id for t in first.rows] + [t.trace_id for p in second for t in p.rows]
    assert listed == list(reversed(early))
    # Spans: the four first ones, not the needle that came later.
    spans = rest(store.search_spans, first_spans, Filters())
    assert len(first_spans.rows) + sum(len(p.rows) for p in spans) == 4
    assert {p.count for p in spans} == {4}
    # A span-level condition met only by a span written later matches nothing at the snapshot.
    needle = Filters(text="needle")
    assert store.search_traces(SearchRequest(needle, as_of=first.as_of)).count == 0
    assert store.search_traces(SearchRequest(needle)).count == 1
    assert store.search_spans(SearchRequest(needle, as_of=first.as_of)).count == 0
    # A new search sees everything.
    assert store.search_traces(SearchRequest(Filters(), limit=2)).count == 7
    assert store.search_spans(SearchRequest(Filters(), limit=2)).count == 8


# A known limit of both stores, kept visible until it is lifted (strict: it fails the run once
# a store passes); docs/query.md.
SNAPSHOT_SUMMARIES_BUG = pytest.mark.xfail(
    strict=True,
    reason="trace search pages filter and sort by the current summaries, not the snapshot's (no"
    " store keeps a summary as of an earlier ingest time): a span arriving for an already listed"
    " trace moves it in the sort order (here its start), so a later page lists it again"
    " (docs/query.md, 'Known limit')",
)


@SNAPSHOT_SUMMARIES_BUG
def test_a_listed_trace_that_grows_after_the_first_page_is_not_listed_again(store: Store) -> None:
    traces, roots = [trace_id() for _ in range(4)], [span_id() for _ in range(4)]
    for i, (trace, root) in enumerate(zip(traces, roots, strict=True)):
        store.write([table(make_span(trace, root, f"t{i}", start=BASE_NS + 10 + i))])
    first = store.search_traces(SearchRequest(Filters(), limit=2))
    assert [t.trace_id for t in first.rows] == [traces[3], traces[2]]
    # The newest trace gets a span that starts before every other trace.
    store.write([table(make_span(traces[3], span_id(), "early", parent=roots[3], start=BASE_NS))])
    later = pages(
        store.search_traces,
        SearchRequest(Filters(), limit=2, after=first.next_after),
    )
    listed = [t.trace_id for t in first.rows] + [t.trace_id for p in later for t in p.rows]
    assert listed == list(reversed(traces))
    # What the pages show of a trace is what was committed by the snapshot.
    assert all(t.span_count == 1 for p in later for t in p.rows)
