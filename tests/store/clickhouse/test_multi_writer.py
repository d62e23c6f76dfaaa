"""Several receivers writing one ClickHouse database at once: each its own ClickHouseStore (as
separate receiver processes would have), writing overlapping spans of the same traces, with
duplicates, in shuffled order, concurrently. Afterwards every read must show each span once,
and every summary and leaf-only total must be what one store that received each span once
(DuckDB, the reference) computes."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.filters import Filters
from tracepond.model.records import (
    SearchRequest,
    SessionRow,
    StatsRequest,
    StatsRow,
    TraceSummary,
)
from tracepond.model.spans import SpanBatch
from tracepond.query.filters import parse_query
from tracepond.store.contract import Store as SpanStore
from tracepond.store.duckdb_store import DuckDBStore

from .stores import open_chdb_store, open_server_store

DECODER = SpanDecoder(max_attribute_bytes=1 << 20)
WRITERS = 4
TRACES = 24
SECOND = 1_000_000_000
FACTORIES = [
    pytest.param(open_chdb_store, id="chdb"),
    pytest.param(open_server_store, id="clickhouse"),
]


def llm(model: str, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
        "session.id": "s-multi",
    }


def agent_trace(rng: random.Random, index: int) -> list[Any]:
    """A root agent span, steps below it, some with a framework LLM span over a provider span
    (both reporting the same usage: only the provider's counts), a tool and an error."""
    trace, root = trace_id(), span_id()
    start = BASE_NS + index * 10 * SECOND
    spans = [make_span(trace, root, f"agent-{index}", start=start, end=start + 9 * SECOND)]
    for step in range(rng.randint(2, 6)):
        begin = start + (step + 1) * SECOND
        wrapper, provider = span_id(), span_id()
        usage = llm(rng.choice(["gpt-4o", "claude-3"]), rng.randint(1, 500), rng.randint(1, 50))
        spans += [
            make_span(trace, wrapper, "ChatOpenAI", parent=root, start=begin,
                      end=begin + SECOND // 2, attributes=usage),
            make_span(trace, provider, "openai.chat", parent=wrapper, start=begin,
                      end=begin + SECOND // 3, attributes=usage),
            make_span(trace, span_id(), "search", parent=root, start=begin + SECOND // 2,
                      end=begin + SECOND // 2 + 10,
                      attributes={"gen_ai.operation.name": "execute_tool",
                                  "gen_ai.tool.name": "search"},
                      status_code=2 if rng.random() < 0.2 else 0),
        ]  # fmt: skip
    return spans


def batches_of(spans: list[Any], rng: random.Random) -> list[SpanBatch]:
    """Requests of 1-8 spans of any traces, in the order given."""
    out = []
    at = 0
    while at < len(spans):
        size = rng.randint(1, 8)
        request = make_request(spans[at : at + size], service="svc")
        decoded = DECODER.decode(request)
        assert decoded.rejected == 0
        out.append(batch_from_table(to_arrow(decoded.rows), decoded.rows.origins))
        at += size
    return out


def write_concurrently(stores: list[SpanStore], work: list[list[SpanBatch]]) -> None:
    start = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def run(store: SpanStore, batches: list[SpanBatch]) -> None:
        try:
            start.wait()
            for batch in batches:
                store.write([batch])
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(stores, work, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []


@pytest.mark.parametrize("factory", FACTORIES)
def test_receivers_writing_one_database_lose_and_double_nothing(
    factory: Callable[..., SpanStore], tmp_path: Path
) -> None:
    rng = random.Random(21)
    traces = [agent_trace(rng, i) for i in range(TRACES)]
    every_span = [span for spans in traces for span in spans]
    # Every span goes to one receiver, a third of them to a second one too (an exporter
    # retrying through the load balancer), and each receiver's share comes in shuffled order.
    shares: list[list[Any]] = [[] for _ in range(WRITERS)]
    for span in every_span:
        first = rng.randrange(WRITERS)
        shares[first].append(span)
        if rng.random() < 0.33:
            shares[(first + rng.randrange(1, WRITERS)) % WRITERS].append(span)
    for share in shares:
        rng.shuffle(share)
    work = [batches_of(share, rng) for share in shares]

    reference = DuckDBStore(tmp_path / "reference.duckdb", threads=1)
    stores = [factory(tmp_path / "shared") for _ in range(WRITERS)]
    try:
        reference.write(batches_of(every_span, rng))
        write_concurrently(stores, work)
        reader = stores[0]
        assert_same_reads(reader, reference, traces)
        # A receiver started later (a new process) reads the same.
        later = factory(tmp_path / "shared")
        stores.append(later)
        assert_same_reads(later, reference, traces)
    finally:
        for store in [reference, *stores]:
            store.close()


def same_order(summary: TraceSummary | None) -> TraceSummary | None:
    """The summary with its models sorted: they are listed in the order the store met them,
    which depends on the order the spans arrived in (different for the reference)."""
    if summary is None:
        return None
    return replace(summary, models=sorted(summary.models), cost=rounded(summary.cost))


def rounded(cost: float | None) -> float | None:
    """A sum of costs, to the nano-dollar: sums in another order differ in the last bits."""
    return None if cost is None else round(cost, 9)


def rounded_rows(rows: Sequence[StatsRow | SessionRow]) -> list[Any]:
    return [replace(row, cost=rounded(row.cost)) for row in rows]


def assert_same_reads(store: SpanStore, reference: SpanStore, traces: list[list[Any]]) -> None:
    total = sum(len(spans) for spans in traces)
    assert store.counts() == reference.counts() == (total, len(traces))
    for spans in traces:
        trace = spans[0].trace_id
        summary = store.trace_summary(trace)
        assert summary is not None
        assert same_order(summary) == same_order(reference.trace_summary(trace))
        assert summary.span_count == len(spans)
        records = store.trace_spans(trace)
        assert [r["span_id"] for r in records] == [
            r["span_id"] for r in reference.trace_spans(trace)
        ]
        assert len({r["span_id"] for r in records}) == len(spans)
        assert len(store.skeleton_rows(trace)) == len(spans)
    listed = store.list_traces(1000)
    assert [same_order(t) for t in listed.traces] == [
        same_order(t) for t in reference.list_traces(1000).traces
    ]
    assert len(listed.traces) == len(traces)
    everything = Filters(since_ns=BASE_NS - SECOND)
    spans_page = store.search_spans(SearchRequest(everything, limit=5, count_cap=100_000))
    assert spans_page.count == total
    llm_spans = Filters(query=parse_query('{ name = "openai.chat" }'))
    assert (
        store.search_spans(SearchRequest(llm_spans, count_cap=100_000)).count
        == reference.search_spans(SearchRequest(llm_spans, count_cap=100_000)).count
    )
    traces_page = store.search_traces(SearchRequest(everything, limit=1000))
    assert [same_order(t) for t in traces_page.rows] == [
        same_order(t) for t in reference.search_traces(SearchRequest(everything, limit=1000)).rows
    ]
    window = StatsRequest(everything, BASE_NS - SECOND, BASE_NS + 1000 * SECOND, None, "name")
    assert rounded_rows(store.stats(window)) == rounded_rows(reference.stats(window))
    assert rounded_rows(store.trace_stats(window)) == rounded_rows(reference.trace_stats(window))
    sessions = store.sessions(10, None, None, None).rows
    assert rounded_rows(sessions) == rounded_rows(reference.sessions(10, None, None, None).rows)
    assert sessions[0].trace_count == len(traces)


def test_a_span_both_receivers_stored_is_read_once(tmp_path: Path) -> None:
    """The race the receivers' duplicate check cannot see: each checks before the other's insert
    is visible, so both store the span. Every read shows it once; the first copy wins."""
    first, second = open_chdb_store(tmp_path), open_chdb_store(tmp_path)
    try:
        trace, root = trace_id(), span_id()
        original = make_span(trace, root, "first copy", start=BASE_NS, end=BASE_NS + SECOND)
        retried = make_span(trace, root, "second copy", start=BASE_NS, end=BASE_NS + SECOND)
        child = make_span(trace, span_id(), "child", parent=root, start=BASE_NS + 1)
        rng = random.Random(1)
        assert first.write(batches_of([original, child], rng)).inserted == 2
        # The second receiver's check ran before the first receiver's insert was visible.
        second._writer._stored_keys = lambda project, table: set()  # type: ignore[method-assign]
        assert second.write(batches_of([retried], rng)).inserted == 1
        stored = second._writer.client.query(
            f"SELECT count() FROM {second.database}.spans WHERE trace_id = {{t:FixedString(16)}}",
            parameters={"t": trace},
        ).result_rows[0][0]
        assert stored == 3  # both copies are in the table
        for store in (first, second):
            summary = store.trace_summary(trace)
            assert summary is not None
            assert (summary.span_count, summary.root_name) == (2, "first copy")
            assert [r["name"] for r in store.trace_spans(trace)] == ["first copy", "child"]
            assert store.counts() == (2, 1)
            page = store.search_spans(SearchRequest(Filters(since_ns=0)))
            assert sorted(r["name"] for r in page.rows) == ["child", "first copy"]
            assert page.count == 2
            stats = store.stats(StatsRequest(Filters(), 0, 2 * BASE_NS, None, None))
            assert stats[0].count == 2
    finally:
        first.close()
        second.close()


def test_a_summary_over_fewer_spans_never_replaces_one_over_more(tmp_path: Path) -> None:
    """Receiver A computes a trace's summary over the spans it saw, receiver B later over more;
    A's insert arrives last. The summary over more spans is the one read."""
    a, b = open_chdb_store(tmp_path), open_chdb_store(tmp_path)
    try:
        trace, root = trace_id(), span_id()
        rng = random.Random(2)
        a.write(batches_of([make_span(trace, root, "root", end=BASE_NS + 9 * SECOND)], rng))
        stale = a._writer._recompute("default", [trace])
        b.write(
            batches_of([make_span(trace, span_id(), f"c{i}", parent=root) for i in range(3)], rng)
        )
        a._writer._insert_summaries(stale)  # A's late insert of the summary over 1 span
        for store in (a, b):
            summary = store.trace_summary(trace)
            assert summary is not None and summary.span_count == 4
            assert store.counts() == (4, 1)
            assert [t.span_count for t in store.list_traces(10).traces] == [4]
    finally:
        a.close()
        b.close()
