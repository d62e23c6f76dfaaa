"""The store contract's writes (``tracepond.store.contract``): one transaction, idempotence,
summaries kept current whatever the order, durability, reads during writes. Each test writes
into an empty store of its own (``store``), once per store of ``STORES`` (conftest.py)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.errors import StorageUnavailable
from tracepond.model.records import TraceSummary, WriteResult
from tracepond.model.spans import SPAN_COLUMNS
from tracepond.store.contract import Store

from .build import summary_of, table
from .conftest import StoreFactory

# -- writes ----------------------------------------------------------------------------------


def test_write_stores_every_column(store: Store) -> None:
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


def test_writes_are_idempotent(store: Store) -> None:
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


def test_first_copy_wins_within_one_write(store: Store) -> None:
    trace, root = trace_id(), span_id()
    first = table(make_span(trace, root, "first"))
    second = table(make_span(trace, root, "second", status_code=2))
    assert store.write([first, second]) == WriteResult(inserted=1, duplicates=1)
    record = store.span(trace, root)
    assert record is not None and record["name"] == "first"
    summary = summary_of(store, trace)
    assert (summary.span_count, summary.error_count, summary.root_name) == (1, 0, "first")


def test_one_write_is_one_transaction(store: Store) -> None:
    good_trace, bad_trace = trace_id(), trace_id()
    store.write([table(make_span(trace_id(), span_id(), "earlier"))])
    counts = store.counts()
    listed = store.list_traces(100)
    good = table(make_span(good_trace, span_id(), "good"))
    refused = table(make_span(bad_trace, span_id(), "bad"))
    bad_rows = refused.table.to_pylist()
    bad_rows[0]["name"] = None  # violates NOT NULL: the database refuses it mid-write
    bad_table = pa.Table.from_pylist(bad_rows, schema=good.table.schema)
    bad = batch_from_table(bad_table, refused.origins)
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


def test_several_tables_in_one_write(store: Store) -> None:
    traces = [trace_id() for _ in range(3)]
    tables = [table(make_span(t, span_id(), f"t{i}")) for i, t in enumerate(traces)]
    assert store.write(tables) == WriteResult(inserted=3, duplicates=0)
    assert [summary_of(store, t).root_name for t in traces] == ["t0", "t1", "t2"]


def test_the_same_span_in_two_projects_is_two_spans(store: Store) -> None:
    """A trace is identified by (project, trace id): duplicates are detected per project, and
    each project's summary counts its own spans."""
    store.projects_create("team")
    trace, root = trace_id(), span_id()
    spans = (make_span(trace, root, "root"), make_span(trace, span_id(), "c", parent=root))
    here, there = table(*spans), table(*spans, project="team")
    assert store.write([here, there]) == WriteResult(inserted=4, duplicates=0)
    assert store.write([there]) == WriteResult(inserted=0, duplicates=2)
    extra = table(
        make_span(trace, span_id(), "only there", parent=root, status_code=2), project="team"
    )
    assert store.write([extra]) == WriteResult(inserted=1, duplicates=0)
    here_summary, there_summary = summary_of(store, trace), summary_of(store, trace, "team")
    assert (here_summary.span_count, here_summary.error_count) == (2, 0)
    assert (there_summary.span_count, there_summary.error_count) == (3, 1)
    assert store.counts("default") == (2, 1)
    assert store.counts("team") == (3, 1)
    assert store.counts() == (5, 2)


# -- summaries -------------------------------------------------------------------------------


def structure_of(summary: TraceSummary) -> tuple[Any, ...]:
    """The structural fields of a summary (ids, names, times, counts), without the totals."""
    return dataclasses.astuple(summary)[:8]


def test_summary_current_across_out_of_order_writes(store: Store) -> None:
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


def test_summary_of_many_traces_in_one_write(store: Store) -> None:
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


def test_reads_during_writes_see_whole_writes_only(store: Store) -> None:
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


def test_totals_count_each_llm_call_once_across_out_of_order_writes(store: Store) -> None:
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


def test_checkpoint_succeeds_after_reads(store: Store) -> None:
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
