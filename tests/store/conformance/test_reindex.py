"""Reindexing through the contract, by span and trace key (``raw_span_chunks``,
``replace_view_columns``, ``trace_id_chunks``, ``recompute_totals``); each test on a store of
its own."""

from __future__ import annotations

from ingest.otlp_build import make_span, span_id, trace_id
from tracepond.model.filters import Filters
from tracepond.model.records import RawSpan, SpanKey, StatsRequest
from tracepond.model.spans import DERIVED_COLUMNS
from tracepond.projects import DEFAULT_PROJECT

from .build import summary_of, table
from .conftest import ConformanceStore

TEAM = "team"
LLM = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 10,
    "gen_ai.usage.output_tokens": 2,
}


def write_some(store: ConformanceStore) -> dict[SpanKey, str]:
    """Two traces in default (the same id also in TEAM): key -> span name."""
    store.projects_create(TEAM)
    a, b = trace_id(), trace_id()
    root = span_id()
    spans = {
        (a, root, "agent", b""),
        (a, span_id(), "chat", root),
        (a, span_id(), "tool", root),
        (b, span_id(), "lonely", b""),
    }
    batches = [
        table(
            *(
                make_span(t, s, n, parent=p, attributes=LLM if n == "chat" else None)
                for t, s, n, p in spans
            )
        ),
        table(make_span(a, span_id(), "team.chat", attributes=LLM), project=TEAM),
    ]
    store.write(batches)
    names = {SpanKey(DEFAULT_PROJECT, t, s): n for t, s, n, _ in spans}
    team = store.trace_spans(a, TEAM)
    names[SpanKey(TEAM, a, team[0]["span_id"])] = "team.chat"
    return names


def test_raw_spans_come_once_each_in_bounded_chunks(store: ConformanceStore) -> None:
    names = write_some(store)
    chunks = list(store.raw_span_chunks(2))
    assert all(1 <= len(chunk) <= 2 for chunk in chunks)
    raw: list[RawSpan] = [span for chunk in chunks for span in chunk]
    assert sorted((s.key.project, s.key.trace_id, s.key.span_id) for s in raw) == sorted(
        (k.project, k.trace_id, k.span_id) for k in names
    )
    for span in raw:
        record = store.span(span.key.trace_id, span.key.span_id, span.key.project)
        assert record is not None and span.name == names[span.key] == record["name"]
        assert (span.attributes_json, span.events_json, span.start_ns) == (
            record["attributes_json"],
            record["events_json"],
            record["start_ns"],
        )
        assert (span.status_code, span.status_message or "") == (
            record["status_code"],
            record["status_message"] or "",
        )


def test_view_columns_replaced_by_key_and_totals_recomputed(store: ConformanceStore) -> None:
    names = write_some(store)
    (chat,) = (k for k, n in names.items() if n == "chat")
    (team_chat,) = (k for k, n in names.items() if n == "team.chat")
    assert summary_of(store, chat.trace_id).input_tokens == 10
    before = store.span(chat.trace_id, chat.span_id)
    assert before is not None
    columns: dict[str, list[object]] = {name: [before[name]] for name in DERIVED_COLUMNS}
    columns["input_tokens"] = [1000]
    columns["total_tokens"] = [1002]
    store.replace_view_columns([chat], columns)
    after = store.span(chat.trace_id, chat.span_id)
    assert after is not None
    assert (after["input_tokens"], after["total_tokens"]) == (1000, 1002)
    assert {k: v for k, v in after.items() if k not in ("input_tokens", "total_tokens")} == {
        k: v for k, v in before.items() if k not in ("input_tokens", "total_tokens")
    }
    # The same trace id in TEAM is another trace: its span is untouched.
    team = store.span(team_chat.trace_id, team_chat.span_id, TEAM)
    assert team is not None and team["input_tokens"] == 10
    # Summaries follow once their totals are recomputed, within the project asked.
    assert summary_of(store, chat.trace_id).input_tokens == 10
    store.recompute_totals(DEFAULT_PROJECT, [chat.trace_id, trace_id()])
    summary = summary_of(store, chat.trace_id)
    assert (summary.input_tokens, summary.total_tokens, summary.llm_count) == (1000, 1002, 1)
    assert summary_of(store, team_chat.trace_id, TEAM).input_tokens == 10
    store.recompute_totals(TEAM, [])


def test_a_span_reindexed_twice_is_read_once_with_its_newest_values(
    store: ConformanceStore,
) -> None:
    names = write_some(store)
    (chat,) = (k for k, n in names.items() if n == "chat")
    before = store.span(chat.trace_id, chat.span_id)
    assert before is not None
    everything = StatsRequest(Filters(), 0, 2**62, None, None)
    (stats_before,) = store.stats(everything)
    for tokens in (1000, 2000):
        columns: dict[str, list[object]] = {name: [before[name]] for name in DERIVED_COLUMNS}
        columns["input_tokens"] = [tokens]
        store.replace_view_columns([chat], columns)
    after = store.span(chat.trace_id, chat.span_id)
    assert after is not None and after["input_tokens"] == 2000
    # Every read sees the span once, with its newest values.
    (stats_after,) = store.stats(everything)
    assert stats_after.count == stats_before.count
    assert stats_after.input_tokens == stats_before.input_tokens - 10 + 2000
    spans = store.trace_spans(chat.trace_id)
    assert sorted(s["span_id"] for s in spans) == sorted(
        k.span_id for k in names if k.trace_id == chat.trace_id and k.project == DEFAULT_PROJECT
    )
    raw = [span.key for chunk in store.raw_span_chunks(2) for span in chunk]
    assert sorted(raw, key=repr) == sorted(names, key=repr)
    store.recompute_totals(DEFAULT_PROJECT, [chat.trace_id])
    summary = summary_of(store, chat.trace_id)
    assert (summary.input_tokens, summary.span_count) == (2000, 3)


def test_every_trace_key_once(store: ConformanceStore) -> None:
    names = write_some(store)
    chunks = list(store.trace_id_chunks(1))
    assert all(len(ids) == 1 for _, ids in chunks)
    keys = sorted((project, i) for project, ids in chunks for i in ids)
    assert keys == sorted({(k.project, k.trace_id) for k in names})
    assert sorted((p, i) for p, ids in store.trace_id_chunks(100) for i in ids) == keys
