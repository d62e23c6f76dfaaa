"""The store contract's reads of single traces (``tracepond.store.contract``): unknown ids, the
newest-first listing, tree columns, span order, skeleton rows and watermarks, on stores each
test writes itself."""

from __future__ import annotations

import pytest

from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id
from tracepond.model.records import TREE_COLUMNS, SpanColumns, TracePage, TraceSummary
from tracepond.store.contract import Store

from .build import table

# -- unknown ids -----------------------------------------------------------------------------


def test_unknown_ids_are_empty_results(store: Store) -> None:
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


# -- listing ---------------------------------------------------------------------------------


def test_pagination_newest_first_with_cursor(store: Store) -> None:
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
        assert len(page.traces) == 7
        after = page.next_cursor
    assert [(t.start_ns, t.trace_id) for t in seen] == expected
    # A page that ends exactly at the last trace has no next cursor.
    assert store.list_traces(25).next_cursor is None
    assert len(store.list_traces(25).traces) == 25
    before_last = store.list_traces(24).next_cursor
    assert before_last is not None
    last = store.list_traces(1000, before_last)
    assert [(t.start_ns, t.trace_id) for t in last.traces] == expected[-1:]
    assert last.next_cursor is None


# -- skeleton rows ---------------------------------------------------------------------------


def test_skeleton_rows_are_every_span_without_payload(store: Store) -> None:
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


def test_skeleton_rows_as_of_a_watermark_leave_out_later_spans(store: Store) -> None:
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


def test_a_tree_read_returns_the_tree_columns_of_every_span(store: Store) -> None:
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
    store: Store, columns: SpanColumns
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
