"""Writes and reads of the shared dataset (seed.py): what each write call stored, the summaries
after every round, each span as stored, trace and listing reads, skeletons and watermarks, and
project isolation. Expected values come from the seed's declarations (``Trace.summary``)."""

from __future__ import annotations

import pytest

from ingest.otlp_build import trace_id
from tracepond.model.records import SPAN_RECORD_COLUMNS, TREE_COLUMNS, SpanColumns, TraceSummary
from tracepond.projects import DEFAULT_PROJECT

from .seed import ACME, EMPTY, MISSING, Seeded, build_traces, comparable

TRACE_NAMES = sorted(build_traces())


def expected_listing(seeded: Seeded, project: str = DEFAULT_PROJECT) -> list[bytes]:
    """Newest first: by start time, then trace id, both descending."""
    summaries = [t.summary() for t in seeded.of(project)]
    summaries.sort(key=lambda s: (s.start_ns, s.trace_id), reverse=True)
    return [s.trace_id for s in summaries]


def test_each_write_call_stored_its_new_spans_and_counted_the_duplicates(seeded: Seeded) -> None:
    """Round 1 repeats the ``dup`` trace and a span of ``quoted`` twice in one call (the second
    copy renamed); round 2 sends ``dup`` twice in one call."""
    assert [got for got, _ in seeded.results] == [expected for _, expected in seeded.results]
    assert [expected.duplicates for _, expected in seeded.results] == [0, 3, 4]


def test_first_copy_within_a_call_is_the_one_stored(seeded: Seeded) -> None:
    quoted = seeded["quoted"]
    record = seeded.store.span(quoted.trace_id, quoted.span("call").span_id)
    assert record is not None and record["name"] == "LLM call_50%"


@pytest.mark.parametrize("name", TRACE_NAMES)
def test_summary_after_every_write(seeded: Seeded, name: str) -> None:
    trace = seeded[name]
    got = seeded.store.trace_summary(trace.trace_id, trace.project)
    assert got is not None
    assert comparable(got) == comparable(trace.summary())


def test_summaries_before_the_later_spans_arrived(seeded: Seeded) -> None:
    """After round 0 only the leaves of ``rag_ok`` and the later orphan of ``no_root`` were
    stored: no root yet, so the earliest stored span stands in for it (store/contract.py,
    TraceSummary.root_name); the totals already count the leaf LLM and embedding calls."""
    for name in ("rag_ok", "no_root"):
        trace = seeded[name]
        got = seeded.after_round0[name]
        assert got is not None
        assert comparable(got) == comparable(trace.summary(written=0))
    assert seeded.after_round0["rag_ok"].root_name == "embed.query"  # type: ignore[union-attr]
    assert seeded.after_round0["no_root"].service_name == "worker-b"  # type: ignore[union-attr]
    # Every trace of the seed has spans in round 0, so each had a summary by then.
    assert all(summary is not None for summary in seeded.after_round0.values())


def test_leaf_only_totals_and_the_stand_in_root(seeded: Seeded) -> None:
    """The rules, spelled out once with the seed's numbers (conventions/_totals.py)."""
    rag = seeded.store.trace_summary(seeded["rag_ok"].trace_id)
    assert rag is not None
    # The embedding (8) and the provider call (100/20); the framework span over it is not
    # counted again.
    assert (rag.input_tokens, rag.output_tokens, rag.total_tokens) == (108, 20, 128)
    assert rag.cost == pytest.approx(0.5001)
    assert sorted(rag.models) == ["gpt-4o", "text-embedding-3-small"]
    assert (rag.llm_count, rag.tool_count, rag.retriever_count) == (1, 0, 1)
    assert (rag.session_id, rag.user_id) == ("sess-a", "alice")
    no_cost = seeded.store.trace_summary(seeded["no_cost"].trace_id)
    assert no_cost is not None and no_cost.cost is None and no_cost.total_tokens == 24
    two_roots = seeded.store.trace_summary(seeded["two_roots"].trace_id)
    assert two_roots is not None
    assert (two_roots.root_span_id, two_roots.root_name) == (
        seeded["two_roots"].span("a").span_id,
        "job.a",
    )
    no_root = seeded.store.trace_summary(seeded["no_root"].trace_id)
    assert no_root is not None
    assert (no_root.root_span_id, no_root.root_name, no_root.service_name) == (
        None,
        "orphan.early",
        "worker",
    )


def test_counts_per_project_and_in_all(seeded: Seeded) -> None:
    def counted(project: str) -> tuple[int, int]:
        traces = seeded.of(project)
        return sum(len(t.spans) for t in traces), len(traces)

    assert seeded.store.counts(DEFAULT_PROJECT) == counted(DEFAULT_PROJECT) == (26, 10)
    assert seeded.store.counts(ACME) == counted(ACME) == (3, 2)
    assert seeded.store.counts(EMPTY) == (0, 0)
    assert seeded.store.counts() == (29, 12)


def test_every_span_as_stored(seeded: Seeded) -> None:
    for trace in seeded.traces.values():
        for spec in trace.spans:
            record = seeded.store.span(trace.trace_id, spec.span_id, trace.project)
            assert record is not None, (trace.name, spec.key)
            parent = None if spec.parent is None else trace.parent_id(spec)
            assert (
                record["trace_id"],
                record["span_id"],
                record["parent_span_id"],
                record["name"],
                record["kind"],
                record["service_name"],
                record["start_ns"],
                record["end_ns"],
                record["duration_ns"],
                record["status_code"],
                record["status_message"],
            ) == (
                trace.trace_id,
                spec.span_id,
                parent,
                spec.name,
                spec.kind,
                trace.service_of(spec),
                spec.start_ns,
                spec.end_ns,
                spec.duration_ns,
                spec.status_code,
                spec.status_message,
            ), (trace.name, spec.key)
            assert (
                record["category"],
                record["model"],
                record["input_tokens"],
                record["output_tokens"],
                record["total_tokens"],
                record["cost"],
                record["document_count"],
                record["tool_name"],
            ) == (
                spec.category,
                spec.model,
                spec.input_tokens,
                spec.output_tokens,
                spec.total_tokens,
                spec.cost,
                spec.document_count,
                spec.tool_name,
            ), (trace.name, spec.key)
            assert f'"service.name":"{trace.service_of(spec)}"' in record["resource_json"]
    assert any(s.parent == MISSING for s in seeded["no_root"].spans)


def test_a_trace_read_whole_and_as_a_tree(seeded: Seeded) -> None:
    for trace in seeded.traces.values():
        found = seeded.store.trace(trace.trace_id, project=trace.project)
        tree = seeded.store.trace(trace.trace_id, "tree", trace.project)
        assert found is not None and tree is not None
        summary, spans = found
        assert comparable(summary) == comparable(trace.summary())
        order = sorted(trace.spans, key=lambda s: (s.start_ns, s.span_id))
        assert [r["span_id"] for r in spans] == [s.span_id for s in order]
        assert seeded.store.trace_spans(trace.trace_id, trace.project) == spans
        assert tree[0] == summary
        assert tree[1] == [{k: r[k] for k in TREE_COLUMNS} for r in spans]
        # A whole span holds the documented columns, no more, no fewer.
        assert all(set(r) == set(SPAN_RECORD_COLUMNS) for r in spans)


@pytest.mark.parametrize("columns", ["all", "tree"])
def test_several_traces_read_at_once(seeded: Seeded, columns: SpanColumns) -> None:
    """``traces``: each trace as ``trace`` reads it, in the order asked, unknown ids and
    another project's traces left out, an id asked twice returned once."""
    for project in (DEFAULT_PROJECT, ACME, EMPTY):
        ids = [t.trace_id for t in seeded.of(project)][::-1]
        asked = [ids[0], trace_id(), *ids, *ids[:1]] if ids else [trace_id()]
        expected = [seeded.store.trace(i, columns, project) for i in ids]
        assert seeded.store.traces(asked, columns, project) == expected
    other = [t.trace_id for t in seeded.of(ACME)]
    only_default = {t.trace_id for t in seeded.of()}
    got = seeded.store.traces(other, columns)
    assert [summary.trace_id for summary, _ in got] == [i for i in other if i in only_default]
    assert seeded.store.traces([], columns) == []


def test_the_listing_pages_newest_first(seeded: Seeded) -> None:
    for project in (DEFAULT_PROJECT, ACME, EMPTY):
        expected = expected_listing(seeded, project)
        seen: list[TraceSummary] = []
        after = None
        for _ in range(10):
            page = seeded.store.list_traces(3, after, project)
            seen += page.traces
            if page.next_cursor is None:
                break
            assert len(page.traces) == 3
            after = page.next_cursor
        assert [t.trace_id for t in seen] == expected
    # tie_b sorts before tie_a: the same start time, the larger trace id first.
    listed = expected_listing(seeded)
    assert listed.index(seeded["tie_b"].trace_id) + 1 == listed.index(seeded["tie_a"].trace_id)


def test_skeleton_rows_and_watermarks(seeded: Seeded) -> None:
    for trace in seeded.traces.values():
        rows = seeded.store.skeleton_rows(trace.trace_id, project=trace.project)
        assert sorted((r["span_id"], r["parent_span_id"], r["name"]) for r in rows) == sorted(
            (s.span_id, trace.parent_id(s), s.name) for s in trace.spans
        )
    rag = seeded["rag_ok"]
    first = seeded.watermarks_round0["rag_ok"]
    last = seeded.store.trace_watermark(rag.trace_id)
    assert first is not None and last is not None and last > first
    early = seeded.store.skeleton_rows(rag.trace_id, as_of=first)
    assert sorted(r["name"] for r in early) == ["embed.query", "openai.chat"]
    assert len(seeded.store.skeleton_rows(rag.trace_id, as_of=last)) == 5
    # A trace written in one round has one watermark throughout.
    dup = seeded["dup"]
    assert seeded.store.trace_watermark(dup.trace_id) == seeded.watermarks_round0["dup"]


def test_reads_stay_within_their_project(seeded: Seeded) -> None:
    """rag_ok and acme_rag share a trace id: each project sees its own trace only."""
    rag, acme = seeded["rag_ok"], seeded["acme_rag"]
    assert rag.trace_id == acme.trace_id
    store = seeded.store
    found = store.trace(acme.trace_id, project=ACME)
    assert found is not None
    assert comparable(found[0]) == comparable(acme.summary())
    assert sorted(r["name"] for r in found[1]) == ["acme.root", "chat"]
    assert store.span(rag.trace_id, rag.span("root").span_id, ACME) is None
    assert store.span(acme.trace_id, acme.span("root").span_id) is None
    assert sorted(r["name"] for r in store.skeleton_rows(acme.trace_id, project=ACME)) == [
        "acme.root",
        "chat",
    ]
    assert store.trace_watermark(acme.trace_id, ACME) != store.trace_watermark(rag.trace_id)
    lone = seeded["no_root"]
    for read in (
        store.trace(lone.trace_id, project=ACME),
        store.trace_summary(lone.trace_id, ACME),
        store.trace_watermark(lone.trace_id, ACME),
        store.span(lone.trace_id, lone.span("late").span_id, ACME),
    ):
        assert read is None
    assert store.trace_spans(lone.trace_id, ACME) == []
    assert store.skeleton_rows(lone.trace_id, project=ACME) == []
    assert store.trace(lone.trace_id, project=EMPTY) is None
