"""Sessions, stats, the skeleton of a huge trace, OTLP/JSON export, and pagination while
spans keep arriving."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from conftest import StoreKind
from ingest.otlp_build import BASE_NS, chain, flatten, make_request, make_span, span_id, trace_id

from .seed import S
from .test_trace_search import MINE

FULL_TRACE = Path(__file__).parents[1] / "fixtures" / "otlp_json" / "full_trace.json"


def test_sessions_list_and_conversation(server: Any, seed: Any) -> None:
    rows = {s["session_id"]: s for s in server.get_json("/api/sessions", limit=1000)["sessions"]}
    one = rows["sess-1"]
    assert (one["trace_count"], one["input_tokens"], one["output_tokens"]) == (2, 150, 30)
    assert one["first_seen_ns"] == BASE_NS and one["error_count"] == 0
    assert rows["sess-2"]["error_count"] == 1 and rows["sess-2"]["user_id"] == "u2"
    detail = server.get_json("/api/sessions/sess-1")
    turns = [(t["trace_id"], t["input"], t["output"]) for t in detail["traces"]]
    assert turns == [
        (seed.ids["rag_empty"], "Where is Atlantis?", 'Nobody knows 100% "exactly".'),
        (seed.ids["rag_ok"], "Capital of France?", "Paris"),
    ]
    assert server.get("/api/sessions/no-such-session").status_code == 404


def test_sessions_pages(server: Any) -> None:
    first = server.get_json("/api/sessions", limit=1)
    second = server.get_json("/api/sessions", limit=1, cursor=first["next_cursor"])
    assert first["sessions"][0]["session_id"] != second["sessions"][0]["session_id"]
    assert first["sessions"][0]["last_seen_ns"] >= second["sessions"][0]["last_seen_ns"]


def test_stats_buckets_and_groups(server: Any) -> None:
    stats = server.get_json(
        "/api/stats",
        bucket="1m",
        group_by="model",
        since=str(BASE_NS),
        until=str(BASE_NS + 240 * S),
    )
    rows = {(r["bucket_start_ns"], r["group"]): r for r in stats["rows"]}
    first_minute = BASE_NS // (60 * S) * (60 * S)  # buckets start on the minute, in UTC
    gpt4o_first = rows[(first_minute, "gpt-4o")]
    assert gpt4o_first["count"] == 1 and gpt4o_first["p50_ns"] == 6 * S
    assert gpt4o_first["input_tokens"] == 100 and gpt4o_first["output_tokens"] == 20
    tool_minute = rows[(first_minute + 120 * S, None)]  # agent root + tool span, no model
    assert tool_minute["error_count"] == 2 and tool_minute["error_rate"] == 1.0
    by_category = server.get_json("/api/stats", group_by="category", **MINE)["rows"]
    assert {r["group"]: r["count"] for r in by_category}["retriever"] == 2
    assert server.get("/api/stats", group_by="colour").status_code == 400
    assert server.get("/api/stats", bucket="1ns", **MINE).status_code == 400


def test_trace_level_stats_count_traces(server: Any, seed: Any) -> None:
    """level=trace: one per trace (not per span), errors are traces with an error span, latency
    the trace duration, tokens each LLM call once; the filters select what /api/traces finds."""
    window = {"since": str(BASE_NS), "until": str(BASE_NS + 240 * S)}
    stats = server.get_json("/api/stats", level="trace", bucket="1m", **window)
    assert (stats["level"], stats["bucket_ns"]) == ("trace", 60 * S)
    first_minute = BASE_NS // (60 * S) * (60 * S)  # buckets start on the minute, in UTC
    rows = {(r["bucket_start_ns"] - first_minute) // (60 * S): r for r in stats["rows"]}
    # One seeded trace a minute, of 3, 3, 3 and 5 spans.
    assert {m: (r["count"], r["error_count"]) for m, r in rows.items()} == {
        0: (1, 0),
        1: (1, 0),
        2: (1, 1),
        3: (1, 0),
    }
    assert [rows[m]["p50_ns"] for m in range(4)] == [8 * S, 2 * S, 3 * S, 5 * S]
    assert (rows[3]["input_tokens"], rows[3]["output_tokens"]) == (17, 8)
    assert (rows[2]["cost"], rows[2]["error_rate"]) == (0.25, 1.0)
    spans = server.get_json("/api/stats", bucket="1m", **window)
    assert spans["level"] == "span"
    assert [r["count"] for r in spans["rows"]] == [3, 3, 3, 5]
    # The same traces as trace search, filter for filter.
    for filters in ({}, {"status": "error"}, {"service": "rag-svc"}, {"category": "retriever"}):
        found = server.get_json("/api/traces", **window, **filters)["count"]
        (one,) = server.get_json("/api/stats", level="trace", **window, **filters)["rows"]
        assert one["count"] == found, filters
    models = server.get_json("/api/stats", level="trace", group_by="model", **window)["rows"]
    assert {r["group"]: r["count"] for r in models} == {
        "gpt-4o": 2,
        "gpt-4o-mini": 1,
        "claude-3": 1,
    }
    services = server.get_json("/api/stats", level="trace", group_by="service", **window)
    assert {r["group"]: r["count"] for r in services["rows"]} == {"rag-svc": 2, "agent-svc": 2}
    assert server.get("/api/stats", level="trace", group_by="category").status_code == 400
    assert server.get("/api/stats", level="spans").status_code == 400


def test_skeleton_of_a_50k_span_trace(server: Any) -> None:
    trace = trace_id()
    # Far after the seeded traces, so that their searches do not see it.
    base = BASE_NS + 10_000 * S
    root = span_id()
    spans = [make_span(trace, root, "agent.loop", start=base, end=base + 10**9)]
    for i in range(50_000 - 1):  # one very wide level: an agent looping over tool calls
        attributes = {"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": 2}
        spans.append(
            make_span(
                trace,
                span_id(),
                f"step {i}",
                parent=root,
                start=base + i + 1,
                attributes=attributes if i % 2 else None,
                status_code=2 if i == 7 else 0,
            )
        )
    for start in range(0, len(spans), 10_000):
        assert (
            server.post_otlp(
                make_request(spans[start : start + 10_000]).SerializeToString()
            ).status_code
            == 200
        )
    skeleton = server.get_json(f"/api/traces/{trace.hex()}/skeleton")
    assert skeleton["total"] == 50_000 and len(skeleton["nodes"]) == 50_000
    top = skeleton["nodes"][0]
    assert top["child_count"] == 49_999 and "attributes" not in top
    assert top["subtree"] == {
        "span_count": 50_000,
        "error_count": 1,
        "input_tokens": 2 * 24_999,
        "output_tokens": 0,
        "total_tokens": 2 * 24_999,
        "cost": None,
    }
    level = server.get_json(f"/api/traces/{trace.hex()}/skeleton", parent=root.hex(), limit=20_000)
    seen = [n["span_id"] for n in level["nodes"]]
    while level["next_cursor"]:
        level = server.get_json(
            f"/api/traces/{trace.hex()}/skeleton",
            parent=root.hex(),
            limit=20_000,
            cursor=level["next_cursor"],
        )
        seen += [n["span_id"] for n in level["nodes"]]
    assert len(seen) == len(set(seen)) == 49_999
    assert server.get_json(f"/api/traces/{trace.hex()}/skeleton", max_depth=0)["total"] == 1


def test_otlp_export_imports_back_unchanged(
    start_tracepond: Any, store_kind: StoreKind, tmp_path: Path
) -> None:
    # Servers of their own: the golden trace's times fall inside the seeded store's range.
    server = start_tracepond(store=store_kind, db_path=tmp_path / f"original.{store_kind}")
    assert server.post_otlp(FULL_TRACE.read_bytes(), "application/json").status_code == 200
    trace = "5b8efff798038103d269b633813fc60c"
    exported = server.get(f"/api/traces/{trace}/otlp")
    assert exported.status_code == 200
    other = start_tracepond(store=store_kind, db_path=tmp_path / f"copy.{store_kind}")
    assert other.post_otlp(exported.content, "application/json").status_code == 200
    original, copy = server.trace(trace), other.trace(trace)
    assert copy == original
    assert len(flatten(copy["roots"])) > 1
    assert server.get(f"/api/traces/{'0' * 31 + '1'}/otlp").status_code == 404


def test_pages_stay_correct_while_spans_arrive(start_tracepond: Any, store_kind: StoreKind) -> None:
    server = start_tracepond(store=store_kind)
    traces = [trace_id() for _ in range(60)]
    for i, trace in enumerate(traces):
        spans = chain(trace, 3, start=BASE_NS + i * S)
        assert server.post_otlp(make_request(spans).SerializeToString()).status_code == 200
    stop = threading.Event()

    def ingest() -> None:  # new traces, and new spans in the listed traces
        i = 0
        while not stop.is_set():
            new = chain(trace_id(), 2, start=BASE_NS + (100 + i) * S)
            more = [make_span(traces[i % 60], span_id(), "late", start=BASE_NS + 999 * S)]
            server.post_otlp(make_request(new + more).SerializeToString())
            i += 1

    sender = threading.Thread(target=ingest)
    sender.start()
    try:
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 7, "until": str(BASE_NS + 99 * S)}
        while True:
            page = server.get_json("/api/traces", **params)
            assert page["count"] == 60
            seen += [t["trace_id"] for t in page["traces"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
    finally:
        stop.set()
        sender.join()
    assert sorted(seen) == sorted(t.hex() for t in traces)


def test_a_span_arriving_after_the_first_page_does_not_change_what_matches(
    start_tracepond: Any, store_kind: StoreKind
) -> None:
    server = start_tracepond(store=store_kind)
    traces = [trace_id() for _ in range(6)]
    for i, trace in enumerate(traces):
        # The first four traces mention "heron"; the last two do not, yet.
        name = "heron lookup" if i < 4 else "plain lookup"
        spans = [make_span(trace, span_id(), name, start=BASE_NS + i * S)]
        assert server.post_otlp(make_request(spans).SerializeToString()).status_code == 200
    first = server.get_json("/api/traces", text="heron", limit=2)
    assert first["count"] == 4
    # Now a span that mentions it reaches one of the traces that did not match.
    late = [make_span(traces[5], span_id(), "heron sighted", start=BASE_NS + 9 * S)]
    assert server.post_otlp(make_request(late).SerializeToString()).status_code == 200
    seen = [t["trace_id"] for t in first["traces"]]
    page = first
    while page["next_cursor"]:
        page = server.get_json("/api/traces", text="heron", limit=2, cursor=page["next_cursor"])
        assert page["count"] == 4
        seen += [t["trace_id"] for t in page["traces"]]
    assert sorted(seen) == sorted(t.hex() for t in traces[:4])
    # A new search sees it.
    assert server.get_json("/api/traces", text="heron", limit=10)["count"] == 5


def test_skeleton_pages_come_from_one_snapshot_while_the_trace_grows(
    start_tracepond: Any, store_kind: StoreKind
) -> None:
    server = start_tracepond(store=store_kind)
    trace, root = trace_id(), span_id()
    spans = [make_span(trace, root, "agent", start=BASE_NS, end=BASE_NS + 100 * S)]
    spans += [
        make_span(trace, span_id(), f"step {i}", parent=root, start=BASE_NS + (10 + i) * S)
        for i in range(29)
    ]
    assert server.post_otlp(make_request(spans).SerializeToString()).status_code == 200
    url = f"/api/traces/{trace.hex()}/skeleton"
    page = server.get_json(url, limit=10)
    seen = [n["span_id"] for n in page["nodes"]]
    # The agent goes on: new steps that sort before the rest of the first snapshot's.
    late = [
        make_span(trace, span_id(), f"late {i}", parent=root, start=BASE_NS + i * S)
        for i in range(1, 6)
    ]
    assert server.post_otlp(make_request(late).SerializeToString()).status_code == 200
    while page["next_cursor"]:
        page = server.get_json(url, limit=10, cursor=page["next_cursor"])
        assert page["total"] == 30
        seen += [n["span_id"] for n in page["nodes"]]
    assert sorted(seen) == sorted(s.span_id.hex() for s in spans)
    # A new first page sees the grown trace.
    assert server.get_json(url, limit=10)["total"] == 35
    # The compact form pages the same way.
    compact = server.get_json(f"{url}/compact", limit=10)
    assert compact["next_cursor"] is not None and compact["total"] == 35
    for bad in ("10", "x.1", "10.", "10.²"):
        assert server.get(url, cursor=bad).status_code == 400
