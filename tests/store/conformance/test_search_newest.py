"""Newest-first trace search with one span condition over traces spread across days.

A store may answer it without reading every match (the ClickHouse store reads the spans of a
growing time range back from the newest trace, its first range sized by the number of matches:
store/clickhouse/_newest.py). So the matches here are uneven in time: a burst of them in the
first hour, a few far apart after it. Half of the burst's traces also have a match newer than
every trace's start: each must be listed by its own start, once, whatever range a store reads
first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest

from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id
from tracepond.model.filters import Filters
from tracepond.model.records import SearchPage, SearchRequest, TraceSummary
from tracepond.model.spans import SpanBatch
from tracepond.store.contract import Store

from .build import table
from .conftest import StoreFactory

MINUTE = 60_000_000_000
HOUR = 60 * MINUTE
BURST = 60  # traces a minute apart in the first hour, all matching
SPARSE = 20  # traces 3 hours apart after it, every other one matching
NEWEST_NS = BASE_NS + (10 + 3 * SPARSE) * HOUR  # after every trace's start


@dataclass(frozen=True)
class Spread:
    store: Store
    starts: dict[bytes, int]  # every trace's start
    matching: set[bytes]  # the traces with a "needle" span
    services: dict[bytes, str]
    late: set[bytes]  # their needle span starts after every trace has started


def fill(store: Store) -> Spread:
    made = Spread(store, {}, set(), {}, set())
    batches: list[SpanBatch] = []
    for i in range(BURST):
        needle_at = NEWEST_NS + i * MINUTE if i % 2 else BASE_NS + i * MINUTE + 1
        batches.append(add_trace(made, i, BASE_NS + i * MINUTE, needle_at))
    for j in range(SPARSE):
        start = BASE_NS + (10 + 3 * j) * HOUR
        batches.append(add_trace(made, BURST + j, start, None if j % 2 else start + MINUTE))
    store.write(batches)
    return made


@pytest.fixture(scope="module")
def spread(factory: StoreFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spread]:
    """Read-only, shared by the module's tests of one store; tests that write use ``own``."""
    opened = factory(tmp_path_factory.mktemp("spread"))
    try:
        yield fill(opened)
    finally:
        opened.close()


@pytest.fixture
def own(store: Store) -> Spread:
    return fill(store)


def add_trace(made: Spread, i: int, start: int, needle_at: int | None) -> SpanBatch:
    trace, root = trace_id(), span_id()
    service = "svc-a" if i % 3 else "svc-b"
    spans = [make_span(trace, root, f"trace {i}", start=start, end=start + HOUR)]
    if needle_at is not None:
        note = {"note": f"found the Needle in trace {i}"}
        spans.append(
            make_span(trace, span_id(), "step", parent=root, start=needle_at, attributes=note)
        )
        made.matching.add(trace)
        if needle_at >= NEWEST_NS:
            made.late.add(trace)
    made.starts[trace], made.services[trace] = start, service
    return table(*spans, service=service)


def all_pages(store: Store, request: SearchRequest) -> list[SearchPage[TraceSummary]]:
    out = [store.search_traces(request)]
    while out[-1].next_after is not None:
        assert len(out) <= BURST + SPARSE
        out.append(store.search_traces(replace(request, after=out[-1].next_after)))
    return out


def newest_first(spread: Spread, traces: set[bytes]) -> list[bytes]:
    return sorted(traces, key=lambda t: (spread.starts[t], t), reverse=True)


@pytest.mark.parametrize("limit", [1, 2, 5, 50])
def test_pages_list_every_match_once_by_start(spread: Spread, limit: int) -> None:
    request = SearchRequest(Filters(text="needle"), limit=limit)
    pages = all_pages(spread.store, request)
    listed = [t.trace_id for p in pages for t in p.rows]
    assert listed == newest_first(spread, spread.matching)
    assert {(p.count, p.capped) for p in pages} == {(len(spread.matching), False)}
    assert all(len(p.rows) == limit for p in pages[:-1])


def test_counts_stop_at_the_cap(spread: Spread) -> None:
    request = SearchRequest(Filters(text="needle"), limit=2, count_cap=5)
    pages = all_pages(spread.store, request)
    assert {(p.count, p.capped) for p in pages} == {(5, True)}
    assert [t.trace_id for p in pages for t in p.rows] == newest_first(spread, spread.matching)


def test_a_trace_condition_and_the_span_condition(spread: Spread) -> None:
    request = SearchRequest(Filters(text="needle", service="svc-a"), limit=3)
    pages = all_pages(spread.store, request)
    wanted = {t for t in spread.matching if spread.services[t] == "svc-a"}
    assert [t.trace_id for p in pages for t in p.rows] == newest_first(spread, wanted)
    assert {(p.count, p.capped) for p in pages} == {(len(wanted), False)}
    capped = spread.store.search_traces(replace(request, count_cap=4))
    assert (capped.count, capped.capped) == (4, True)


def test_no_match_is_an_empty_page(spread: Spread) -> None:
    page = spread.store.search_traces(SearchRequest(Filters(text="haystack"), limit=5))
    assert (page.rows, page.count, page.capped, page.next_after) == ([], 0, False, None)


def test_a_span_after_the_snapshot_is_not_a_match(own: Spread) -> None:
    spread = own
    first = spread.store.search_traces(SearchRequest(Filters(text="needle"), limit=2))
    newest = max(spread.starts.values())
    unmatched = next(t for t in spread.starts if t not in spread.matching)
    spread.store.write([table(make_span(unmatched, span_id(), "needle late", start=newest + HOUR))])
    rest = all_pages(
        spread.store, SearchRequest(Filters(text="needle"), limit=2, after=first.next_after)
    )
    listed = [t.trace_id for t in first.rows] + [t.trace_id for p in rest for t in p.rows]
    assert listed == newest_first(spread, spread.matching)
    now = all_pages(spread.store, SearchRequest(Filters(text="needle"), limit=50))
    listed = [t.trace_id for p in now for t in p.rows]
    assert listed == newest_first(spread, spread.matching | {unmatched})
