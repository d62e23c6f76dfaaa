"""The store contract (``tracepond.store.base``), checked against every store implementation.

Add a store by adding a factory to STORES: ``factory(path)`` opens (or reopens) the store whose
data lives at ``path``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id
from store.clickhouse.stores import open_chdb_store, open_server_store
from tracepond.errors import StorageUnavailable
from tracepond.ingest._rows import SPAN_COLUMNS, SpanBatch, to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.store.base import (
    TREE_COLUMNS,
    SpanColumns,
    SpanStore,
    TracePage,
    TraceSummary,
    WriteResult,
)
from tracepond.store.duckdb_store import DuckDBStore

StoreFactory = Callable[[Path], SpanStore]


def duckdb_store(path: Path) -> SpanStore:
    return DuckDBStore(path / "conformance.duckdb", memory_limit="128MB", threads=1)


def chdb_store(path: Path) -> SpanStore:
    """The ClickHouse store on chdb, in a database of its own for ``path``."""
    return open_chdb_store(path)  # type: ignore[no-any-return]


def clickhouse_store(path: Path) -> SpanStore:
    """The ClickHouse store on the server of TRACEPOND_TEST_CLICKHOUSE_URL (else skipped)."""
    return open_server_store(path)  # type: ignore[no-any-return]


STORES = [
    pytest.param(duckdb_store, id="duckdb"),
    pytest.param(chdb_store, id="chdb"),
    pytest.param(clickhouse_store, id="clickhouse"),
]


@pytest.fixture(params=STORES)
def factory(request: pytest.FixtureRequest) -> StoreFactory:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def store(factory: StoreFactory, tmp_path: Path) -> Iterator[SpanStore]:
    opened = factory(tmp_path)
    yield opened
    opened.close()


DECODER = SpanDecoder(max_attribute_bytes=1 << 20)


def table(*spans: Any, service: str = "svc") -> SpanBatch:
    return batch_of(make_request(spans, service=service))


def batch_of(request: Any) -> SpanBatch:
    """What the ingest pipeline hands the store for ``request`` (every span valid)."""
    batch = DECODER.decode(request)
    assert batch.rejected == 0
    return SpanBatch.from_table(to_arrow(batch.rows), batch.rows.origins)


def summary_of(store: SpanStore, trace: bytes) -> TraceSummary:
    summary = store.trace_summary(trace)
    assert summary is not None
    return summary


# -- unknown ids -----------------------------------------------------------------------------


def test_unknown_ids_are_empty_results(store: SpanStore) -> None:
    assert store.trace_spans(trace_id()) == []
    assert store.span(trace_id(), span_id()) is None
    assert store.trace_summary(trace_id()) is None
    assert store.list_traces(10) == TracePage(traces=[], next_cursor=None)
    assert store.counts() == (0, 0)
    trace, root = trace_id(), span_id()
    store.write([table(make_span(trace, root, "root"))])
    assert store.span(trace, span_id()) is None
    assert store.span(trace_id(), root) is None
    assert store.trace_spans(trace_id()) == []


# -- writes ----------------------------------------------------------------------------------


def test_write_stores_every_column(store: SpanStore) -> None:
    trace, root, child = trace_id(), span_id(), span_id()
    spans = [
        make_span(trace, root, "root", attributes={"k": "v", "n": 1}, status_code=1),
        make_span(
            trace,
            child,
            "child",
            parent=root,
            start=BASE_NS + 5,
            end=BASE_NS + 7,
            kind=3,
            status_code=2,
            status_message="boom",
        ),
    ]
    spans[1].trace_state = "a=b"
    spans[1].dropped_events_count = 4
    written = table(*spans)
    assert store.write([written]) == WriteResult(inserted=2, duplicates=0)
    expected = written.table.to_pylist()
    for row in expected:
        record = store.span(row["trace_id"], row["span_id"])
        assert record is not None
        for column in SPAN_COLUMNS:
            if column == "origin_id":  # a record carries its origin's JSON, not the reference
                origin = (record["resource_json"], record["scope_json"])
                assert origin == written.origins[row[column]]
            else:
                assert record[column] == row[column], column
        assert record["duration_ns"] == row["end_ns"] - row["start_ns"]
    records = store.trace_spans(trace)
    assert [r["span_id"] for r in records] == [root, child]  # ordered by start time
    assert store.counts() == (2, 1)


def test_writes_are_idempotent(store: SpanStore) -> None:
    trace, root = trace_id(), span_id()
    batch = table(
        make_span(trace, root, "root", status_code=2),
        make_span(trace, span_id(), "child", parent=root),
    )
    assert store.write([batch]) == WriteResult(inserted=2, duplicates=0)
    before = summary_of(store, trace)
    assert store.write([batch]) == WriteResult(inserted=0, duplicates=2)
    assert store.write([batch, batch]) == WriteResult(inserted=0, duplicates=4)
    assert summary_of(store, trace) == before
    assert before.span_count == 2 and before.error_count == 1
    assert store.counts() == (2, 1)


def test_first_copy_wins_within_one_write(store: SpanStore) -> None:
    trace, root = trace_id(), span_id()
    first = table(make_span(trace, root, "first"))
    second = table(make_span(trace, root, "second", status_code=2))
    assert store.write([first, second]) == WriteResult(inserted=1, duplicates=1)
    record = store.span(trace, root)
    assert record is not None and record["name"] == "first"
    summary = summary_of(store, trace)
    assert (summary.span_count, summary.error_count, summary.root_name) == (1, 0, "first")


def test_one_write_is_one_transaction(store: SpanStore) -> None:
    good_trace, bad_trace = trace_id(), trace_id()
    store.write([table(make_span(trace_id(), span_id(), "earlier"))])
    counts = store.counts()
    listed = store.list_traces(100)
    good = table(make_span(good_trace, span_id(), "good"))
    refused = table(make_span(bad_trace, span_id(), "bad"))
    bad_rows = refused.table.to_pylist()
    bad_rows[0]["name"] = None  # violates NOT NULL: the database refuses it mid-write
    bad_table = pa.Table.from_pylist(bad_rows, schema=good.table.schema)
    bad = SpanBatch.from_table(bad_table, refused.origins)
    with pytest.raises(Exception):  # noqa: B017 - any store error; the point is what is left
        store.write([good, bad])
    assert store.trace_spans(good_trace) == []
    assert store.trace_summary(good_trace) is None
    assert store.trace_spans(bad_trace) == []
    assert store.counts() == counts
    assert store.list_traces(100) == listed
    # The store is still usable, and the good spans can be written on their own.
    assert store.write([good]) == WriteResult(inserted=1, duplicates=0)
    assert summary_of(store, good_trace).span_count == 1


def test_several_tables_in_one_write(store: SpanStore) -> None:
    traces = [trace_id() for _ in range(3)]
    tables = [table(make_span(t, span_id(), f"t{i}")) for i, t in enumerate(traces)]
    assert store.write(tables) == WriteResult(inserted=3, duplicates=0)
    assert [summary_of(store, t).root_name for t in traces] == ["t0", "t1", "t2"]


# -- summaries -------------------------------------------------------------------------------


def structure_of(summary: TraceSummary) -> tuple[Any, ...]:
    """The structural fields of a summary (ids, names, times, counts), without the totals."""
    return dataclasses.astuple(summary)[:8]


def test_summary_current_across_out_of_order_writes(store: SpanStore) -> None:
    trace, root, mid = trace_id(), span_id(), span_id()
    leaf = make_span(trace, span_id(), "leaf", parent=mid, start=BASE_NS + 30, end=BASE_NS + 40)
    store.write([table(leaf, service="leaf-svc")])
    summary = summary_of(store, trace)
    assert structure_of(summary) == (
        trace,
        None,
        "leaf",
        "leaf-svc",
        BASE_NS + 30,
        BASE_NS + 40,
        1,
        0,
    )
    middle = make_span(
        trace, mid, "mid", parent=root, start=BASE_NS + 20, end=BASE_NS + 45, status_code=2
    )
    store.write([table(middle, service="mid-svc")])
    summary = summary_of(store, trace)
    # Still no root: the earliest span stands in.
    assert structure_of(summary) == (
        trace,
        None,
        "mid",
        "mid-svc",
        BASE_NS + 20,
        BASE_NS + 45,
        2,
        1,
    )
    top = make_span(trace, root, "root", start=BASE_NS + 10, end=BASE_NS + 35)
    store.write([table(top, service="root-svc")])
    assert structure_of(summary_of(store, trace)) == (
        trace,
        root,
        "root",
        "root-svc",
        BASE_NS + 10,
        BASE_NS + 45,
        3,
        1,
    )
    # A later, earlier-starting orphan does not take the root's place.
    early = make_span(trace, span_id(), "early", parent=span_id(), start=BASE_NS, end=BASE_NS + 1)
    store.write([table(early, service="other")])
    assert structure_of(summary_of(store, trace)) == (
        trace,
        root,
        "root",
        "root-svc",
        BASE_NS,
        BASE_NS + 45,
        4,
        1,
    )


def test_summary_of_many_traces_in_one_write(store: SpanStore) -> None:
    traces = [trace_id() for _ in range(10)]
    spans = []
    for i, trace in enumerate(traces):
        root = span_id()
        spans.append(make_span(trace, root, f"root{i}", start=BASE_NS + i))
        spans += [
            make_span(trace, span_id(), "c", parent=root, start=BASE_NS + i + 1, status_code=2)
            for _ in range(i)
        ]
    store.write([table(*spans)])
    for i, trace in enumerate(traces):
        summary = summary_of(store, trace)
        assert (summary.root_name, summary.span_count, summary.error_count) == (
            f"root{i}",
            i + 1,
            i,
        )


# -- listing ---------------------------------------------------------------------------------


def test_pagination_newest_first_with_cursor(store: SpanStore) -> None:
    expected = []
    for i in range(25):
        trace = trace_id()
        start = BASE_NS + (i // 3)  # ties in start time, broken by trace id
        store.write([table(make_span(trace, span_id(), f"t{i}", start=start))])
        expected.append((start, trace))
    expected.sort(reverse=True)
    seen: list[TraceSummary] = []
    after = None
    while True:
        page = store.list_traces(7, after)
        assert len(page.traces) <= 7
        seen += page.traces
        if page.next_cursor is None:
            break
        assert page.next_cursor == (page.traces[-1].start_ns, page.traces[-1].trace_id)
        after = page.next_cursor
    assert [(t.start_ns, t.trace_id) for t in seen] == expected
    # A page that ends exactly at the last trace has no next cursor.
    assert store.list_traces(25).next_cursor is None
    assert len(store.list_traces(25).traces) == 25
    assert store.list_traces(24).next_cursor is not None
    assert store.list_traces(1000, expected[-1]).traces == []


# -- durability ------------------------------------------------------------------------------


def test_durable_across_close_and_reopen(factory: StoreFactory, tmp_path: Path) -> None:
    first = factory(tmp_path)
    trace, root = trace_id(), span_id()
    first.write(
        [table(make_span(trace, root, "root"), make_span(trace, span_id(), "c", parent=root))]
    )
    summary = summary_of(first, trace)
    spans = first.trace_spans(trace)
    first.close()
    first.close()  # closing twice is harmless
    with pytest.raises(StorageUnavailable):
        first.write([table(make_span(trace_id(), span_id(), "late"))])

    second = factory(tmp_path)
    try:
        assert second.trace_summary(trace) == summary
        assert second.trace_spans(trace) == spans
        assert second.counts() == (2, 1)
        # Idempotency holds across the reopen.
        again = table(make_span(trace, root, "root"))
        assert second.write([again]) == WriteResult(inserted=0, duplicates=1)
    finally:
        second.close()


# -- concurrency -----------------------------------------------------------------------------


def test_reads_during_writes_see_whole_writes_only(store: SpanStore) -> None:
    """Each write is one trace of 20 spans; a concurrent reader never sees part of one."""
    written: list[bytes] = []
    done = threading.Event()
    problems: list[str] = []

    def reader() -> None:
        while not done.is_set():
            for trace in [*written[-5:], trace_id()]:
                spans = store.trace_spans(trace)
                summary = store.trace_summary(trace)
                if len(spans) not in (0, 20):
                    problems.append(f"saw {len(spans)} spans")
                if summary is not None and summary.span_count != 20:
                    problems.append(f"saw span_count {summary.span_count}")

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(30):
            trace, root = trace_id(), span_id()
            spans = [make_span(trace, root, "root")]
            spans += [make_span(trace, span_id(), "c", parent=root) for _ in range(19)]
            store.write([table(*spans)])
            written.append(trace)
    finally:
        done.set()
        thread.join(60)
    assert problems == []
    assert store.counts() == (600, 30)


def test_totals_count_each_llm_call_once_across_out_of_order_writes(store: SpanStore) -> None:
    """A framework LLM span and the provider span below it both report the call's usage; the
    provider span arrives first, in another write. Only the leaf is counted."""
    trace, root, wrapper = trace_id(), span_id(), span_id()
    usage = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 412,
        "gen_ai.usage.output_tokens": 23,
        "session.id": "s-1",
    }
    provider = make_span(trace, span_id(), "openai.chat", parent=wrapper, attributes=usage)
    store.write([table(provider)])
    assert summary_of(store, trace).input_tokens == 412
    framework = make_span(trace, wrapper, "ChatOpenAI", parent=root, attributes=usage)
    tool = make_span(
        trace,
        span_id(),
        "search",
        parent=root,
        attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search"},
    )
    top = make_span(trace, root, "agent", attributes={"gen_ai.operation.name": "invoke_agent"})
    store.write([table(framework, tool), table(top)])
    summary = summary_of(store, trace)
    assert (summary.input_tokens, summary.output_tokens, summary.total_tokens) == (412, 23, 435)
    assert summary.models == ["gpt-4o-mini"]
    assert summary.session_id == "s-1"
    assert (summary.llm_count, summary.tool_count, summary.retriever_count) == (1, 1, 0)
    # A retry of the provider span changes nothing.
    assert store.write([table(provider)]) == WriteResult(inserted=0, duplicates=1)
    assert summary_of(store, trace) == summary


def test_checkpoint_succeeds_after_reads(store: SpanStore) -> None:
    """The writer checkpoints when idle; reads that left a result unfinished would keep a
    transaction open and make that checkpoint fail."""
    trace, root = trace_id(), span_id()
    store.write([table(make_span(trace, root, "root"))])
    store.trace_summary(trace)
    store.trace_spans(trace)
    store.span(trace, root)
    store.list_traces(10)
    store.counts()
    store.write([table(make_span(trace, span_id(), "child", parent=root))])
    store.checkpoint()


# -- skeleton rows ---------------------------------------------------------------------------


def test_skeleton_rows_are_every_span_without_payload(store: SpanStore) -> None:
    trace, root, child, other = trace_id(), span_id(), span_id(), trace_id()
    llm = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 3,
        "gen_ai.prompt": "a long payload",
    }
    # The child first and in another write: rows come from every write, whatever the order.
    store.write(
        [
            table(
                make_span(
                    trace,
                    child,
                    "chat",
                    parent=root,
                    start=BASE_NS + 5,
                    end=BASE_NS + 9,
                    attributes=llm,
                    status_code=2,
                )
            )
        ]
    )
    store.write(
        [
            table(make_span(trace, root, "root", start=BASE_NS, end=BASE_NS + 10)),
            table(make_span(other, span_id(), "elsewhere")),
        ]
    )
    assert store.skeleton_rows(trace_id()) == []
    rows = sorted(store.skeleton_rows(trace), key=lambda r: r["start_ns"])
    assert [set(r) for r in rows] == [
        {
            "span_id",
            "parent_span_id",
            "name",
            "kind",
            "service_name",
            "start_ns",
            "end_ns",
            "status_code",
            "category",
            "model",
            "input_tokens",
            "output_tokens",
            "total_tokens",
            "cost",
        }
    ] * 2
    assert rows[0]["span_id"] == root and rows[0]["parent_span_id"] is None
    assert (rows[0]["name"], rows[0]["start_ns"], rows[0]["end_ns"]) == (
        "root",
        BASE_NS,
        BASE_NS + 10,
    )
    assert rows[1]["span_id"] == child and rows[1]["parent_span_id"] == root
    assert (rows[1]["category"], rows[1]["model"], rows[1]["status_code"]) == (
        "llm",
        "gpt-4o-mini",
        2,
    )
    assert (rows[1]["input_tokens"], rows[1]["output_tokens"]) == (12, 3)
    assert isinstance(rows[1]["span_id"], bytes) and rows[1]["kind"] == 1


def test_skeleton_rows_as_of_a_watermark_leave_out_later_spans(store: SpanStore) -> None:
    trace, root = trace_id(), span_id()
    assert store.trace_watermark(trace) is None
    store.write([table(make_span(trace, root, "root", start=BASE_NS + 10))])
    first = store.trace_watermark(trace)
    assert first is not None
    # A later write adds a span that sorts first (it started earlier).
    store.write([table(make_span(trace, span_id(), "early", parent=root, start=BASE_NS))])
    later = store.trace_watermark(trace)
    assert later is not None and later > first
    assert [r["name"] for r in store.skeleton_rows(trace, as_of=first)] == ["root"]
    assert [r["name"] for r in store.skeleton_rows(trace, as_of=later)] == ["early", "root"]
    assert [r["name"] for r in store.skeleton_rows(trace)] == ["early", "root"]


def test_a_tree_read_returns_the_tree_columns_of_every_span(store: SpanStore) -> None:
    trace = trace_id()
    root, child = span_id(), span_id()
    store.write(
        [
            table(
                make_span(trace, root, "root", attributes={"k": "v"}),
                make_span(trace, child, "child", parent=root, start=BASE_NS + 5),
            )
        ]
    )
    everything = store.trace(trace)
    tree = store.trace(trace, columns="tree")
    assert everything is not None and tree is not None
    assert tree[0] == everything[0]
    assert [set(record) for record in tree[1]] == [set(TREE_COLUMNS)] * 2
    assert tree[1] == [{k: r[k] for k in TREE_COLUMNS} for r in everything[1]]
    assert store.trace(trace_id(), columns="tree") is None


@pytest.mark.parametrize("columns", ["all", "tree"])
def test_trace_spans_come_back_by_start_time_then_span_id(
    store: SpanStore, columns: SpanColumns
) -> None:
    trace = trace_id()
    late = make_span(trace, span_id(), "late", start=BASE_NS + 50, end=BASE_NS + 60)
    tie_a = make_span(trace, b"\x01" * 8, "tie a", start=BASE_NS + 10, end=BASE_NS + 20)
    tie_b = make_span(trace, b"\x02" * 8, "tie b", start=BASE_NS + 10, end=BASE_NS + 20)
    early = make_span(trace, span_id(), "early", start=BASE_NS, end=BASE_NS + 90)
    store.write([table(late, tie_b)])
    store.write([table(tie_a, early)])
    found = store.trace(trace, columns=columns)
    assert found is not None
    assert [record["name"] for record in found[1]] == ["early", "tie a", "tie b", "late"]
