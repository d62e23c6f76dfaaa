"""Messy traces through a real server and the HTTP API: orphans, self-parents, loops,
duplicates, traces split over many requests arriving child first, and a deep chain."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from ingest.otlp_build import (
    BASE_NS,
    chain,
    flatten,
    make_request,
    make_span,
    span_id,
    trace_id,
)


def send(server: Any, spans: list[Any]) -> None:
    response = server.post_otlp(make_request(spans).SerializeToString())
    assert response.status_code == 200, response.text
    assert response.content == b""  # an empty ExportTraceServiceResponse: nothing rejected


def names(tree: dict[str, Any]) -> list[str]:
    return [n["name"] for n in flatten(tree["roots"])]


def test_orphan_is_marked_and_shown_as_an_extra_root(tracepond_server: Any) -> None:
    trace, root, missing = trace_id(), span_id(), span_id()
    send(
        tracepond_server,
        [
            make_span(trace, root, "root", start=BASE_NS + 10),
            make_span(trace, span_id(), "lost-child", parent=missing, start=BASE_NS + 20),
        ],
    )
    tree = tracepond_server.trace(trace.hex())
    assert [(r["name"], r["orphan"], r["cycle"]) for r in tree["roots"]] == [
        ("root", False, False),
        ("lost-child", True, False),
    ]
    assert tree["roots"][1]["parent_span_id"] == missing.hex()
    assert tree["summary"]["root_name"] == "root"
    assert tree["summary"]["root_span_id"] == root.hex()
    assert tree["summary"]["span_count"] == 2


def test_self_parent_and_two_cycle_do_not_hang(tracepond_server: Any) -> None:
    trace, a, b, c, me = trace_id(), span_id(), span_id(), span_id(), span_id()
    send(
        tracepond_server,
        [
            make_span(trace, a, "A", parent=b, start=BASE_NS + 1),
            make_span(trace, b, "B", parent=a, start=BASE_NS + 2),
            make_span(trace, c, "C", parent=b, start=BASE_NS + 3),
            make_span(trace, me, "me", parent=me, start=BASE_NS + 4),
        ],
    )
    tree = tracepond_server.trace(trace.hex())
    assert sorted(names(tree)) == ["A", "B", "C", "me"]
    roots = {r["name"]: r for r in tree["roots"]}
    assert set(roots) == {"A", "me"}
    assert roots["A"]["cycle"] and roots["me"]["cycle"]
    assert [ch["name"] for ch in roots["A"]["children"]] == ["B"]
    assert [ch["name"] for ch in roots["A"]["children"][0]["children"]] == ["C"]
    assert roots["me"]["children"] == []
    # No parentless span: the summary falls back to the earliest span.
    summary = tree["summary"]
    assert summary["root_span_id"] is None
    assert summary["root_name"] == "A"
    assert summary["span_count"] == 4
    # The span endpoint still answers for each.
    for sid in (a, b, c, me):
        detail = tracepond_server.get_json(f"/api/traces/{trace.hex()}/spans/{sid.hex()}")
        assert detail["span_id"] == sid.hex()


def test_duplicates_stored_once_and_counted_once(tracepond_server: Any) -> None:
    trace, root = trace_id(), span_id()
    spans = [
        make_span(trace, root, "root", status_code=2),
        make_span(trace, span_id(), "child", parent=root, start=BASE_NS + 5),
    ]
    send(tracepond_server, spans)
    send(tracepond_server, spans)  # an exporter retrying
    send(tracepond_server, spans + spans)  # duplicates inside one request
    # The same span id with different content: the first stored copy wins.
    send(tracepond_server, [make_span(trace, root, "impostor", start=BASE_NS - 100)])
    tree = tracepond_server.trace(trace.hex())
    assert names(tree) == ["root", "child"]
    summary = tree["summary"]
    assert summary["span_count"] == 2
    assert summary["error_count"] == 1
    assert summary["root_name"] == "root"
    assert summary["start_time_unix_nano"] == BASE_NS
    listed = [t for t in tracepond_server.all_traces() if t["trace_id"] == trace.hex()]
    # The list adds the root's previews and tags to the summary.
    previews = ("input_preview", "output_preview", "tags")
    assert [{k: v for k, v in t.items() if k not in previews} for t in listed] == [summary]


def test_trace_split_over_many_requests_child_first(tracepond_server: Any) -> None:
    trace = trace_id()
    spans = chain(trace, 12, start=BASE_NS + 1_000)
    # Children before parents, one request each; root last.
    for index, span in enumerate(reversed(spans)):
        send(tracepond_server, [span])
        summary = tracepond_server.trace(trace.hex())["summary"]
        assert summary["span_count"] == index + 1
        earliest = spans[len(spans) - 1 - index]
        if span is not spans[0]:
            # No root yet: the earliest span seen so far stands in, and the tree shows an orphan.
            assert summary["root_span_id"] is None
            assert summary["root_name"] == earliest.name
    tree = tracepond_server.trace(trace.hex())
    summary = tree["summary"]
    assert summary["root_name"] == "s0"
    assert summary["root_span_id"] == spans[0].span_id.hex()
    assert summary["start_time_unix_nano"] == spans[0].start_time_unix_nano
    assert summary["end_time_unix_nano"] == spans[0].end_time_unix_nano
    assert summary["span_count"] == 12
    assert len(tree["roots"]) == 1
    assert names(tree) == [f"s{i}" for i in range(12)]
    assert not any(n["orphan"] or n["cycle"] for n in flatten(tree["roots"]))


def test_root_arriving_between_children(tracepond_server: Any) -> None:
    """A later-starting child first, then the root, then an earlier-starting orphan: the root's
    name is kept once it is known, while start/end widen to cover everything."""
    trace, root = trace_id(), span_id()
    late = make_span(trace, span_id(), "late", parent=root, start=BASE_NS + 50, end=BASE_NS + 55)
    send(tracepond_server, [late])
    send(
        tracepond_server,
        [make_span(trace, root, "the-root", start=BASE_NS + 10, end=BASE_NS + 60)],
    )
    send(
        tracepond_server,
        [make_span(trace, span_id(), "early", parent=span_id(), start=BASE_NS, end=BASE_NS + 99)],
    )
    summary = tracepond_server.trace(trace.hex())["summary"]
    assert summary["root_name"] == "the-root"
    assert summary["root_span_id"] == root.hex()
    assert summary["start_time_unix_nano"] == BASE_NS
    assert summary["end_time_unix_nano"] == BASE_NS + 99
    assert summary["span_count"] == 3


@contextlib.contextmanager
def recursion_limit(limit: int) -> Iterator[None]:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def test_deep_chain_renders(tracepond_server: Any) -> None:
    depth = 2_000
    trace = trace_id()
    spans = chain(trace, depth)
    send(tracepond_server, spans)
    response = tracepond_server.get(f"/api/traces/{trace.hex()}")
    assert response.status_code == 200
    # Python's json decoder recurses per nesting level.
    with recursion_limit(20_000):
        tree = json.loads(response.content)
    assert tree["summary"]["span_count"] == depth
    current, levels = tree["roots"][0], 1
    while current["children"]:
        (current,) = current["children"]
        assert current["parent_span_id"] == spans[levels - 1].span_id.hex()
        levels += 1
    assert levels == depth
    assert current["name"] == f"s{depth - 1}"
    assert set(current) >= {"span_id", "attributes", "orphan", "cycle", "status", "events"}
