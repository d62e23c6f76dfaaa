"""tracepond.Client against a real seeded server: typed results, filters and the query language,
cursor paging, trees, skeletons, sessions, stats, errors, DataFrames."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import tracepond
from ingest.otlp_build import BASE_NS
from search.seed import S
from tracepond.client import APIError, Client, SpanHit, TraceSummary

MINE: dict[str, Any] = {"since": BASE_NS, "until": BASE_NS + 200 * S}


@pytest.fixture(scope="module")
def client(server: Any) -> Client:
    return tracepond.Client(server.url)


def names(seed: Any, items: Any) -> set[str]:
    by_id = {v: k for k, v in seed.ids.items()}
    return {by_id[t.trace_id] for t in items if t.trace_id in by_id}


def test_search_traces_with_filters_is_typed(client: Client, seed: Any, server: Any) -> None:
    page = client.search_traces(service="rag-svc", **MINE)
    assert names(seed, page) == {"rag_empty", "rag_ok"}
    assert page.count == 2 and page.count_capped is False and page.next_cursor is None
    assert all(isinstance(t, TraceSummary) for t in page)
    # The typed objects carry exactly what the API sends.
    raw = server.get_json("/api/traces", service="rag-svc", since=BASE_NS, until=BASE_NS + 200 * S)
    assert page.records() == raw["traces"]
    by_name = {t.trace_id: t for t in page}
    empty = by_name[seed.ids["rag_empty"]]
    assert (empty.input_tokens, empty.output_tokens, empty.models) == (100, 20, ["gpt-4o"])
    assert empty.session_id == "sess-1" and empty.duration_ns == 8 * S


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"q": '{ category = "retriever" && documents.count = 0 } && { category = "llm" }'},
            {"rag_empty"},
        ),
        ({"text": "weather in oslo"}, {"tool_err"}),
        ({"status": "error"}, {"tool_err"}),
        ({"min_duration": timedelta(seconds=5)}, {"rag_empty", "deep"}),
        ({"max_duration": "2500ms"}, {"rag_ok"}),
        ({"attr": "app.tenant=acme"}, {"rag_ok"}),
        ({"attr": ["http.status_code", "app.tenant=acme"]}, {"rag_ok"}),
        ({"until": datetime.fromtimestamp((BASE_NS + 90 * S) / 1e9, UTC)}, {"rag_empty", "rag_ok"}),
        ({"tag": "beta", "session_id": "sess-1"}, {"rag_empty"}),
    ],
)
def test_search_parameters(
    client: Client, seed: Any, kwargs: dict[str, Any], expected: set[str]
) -> None:
    params = {**MINE, **kwargs}
    assert names(seed, client.search_traces(**params)) == expected


def test_search_spans(client: Client, seed: Any) -> None:
    page = client.search_spans('{ category = "tool" }', **MINE)
    assert [(s.trace_id, s.span_id) for s in page] == [
        (seed.ids["tool_err"], seed.span_ids["tool_err.tool"])
    ]
    tool = page.items[0]
    assert isinstance(tool, SpanHit)
    assert (tool.tool_name, tool.status.code, tool.category) == ("search", "error", "tool")
    assert "weather in Oslo" in tool.attributes["gen_ai.tool.call.arguments"]


def test_iterating_follows_the_cursor(client: Client, seed: Any) -> None:
    pages = list(client.trace_pages(page_size=1, sort="duration", order="asc", **MINE))
    assert [len(p) for p in pages] == [1, 1, 1, 1] and pages[-1].next_cursor is None
    durations = [t.duration_ns for p in pages for t in p]
    assert durations == sorted(durations) == [2 * S, 3 * S, 5 * S, 8 * S]
    assert [t.trace_id for t in client.iter_traces(page_size=3, **MINE)] == [
        t.trace_id for t in client.search_traces(limit=10, **MINE)
    ]
    spans = list(client.iter_spans(page_size=2, **MINE))
    assert len(spans) == 14 and len({(s.trace_id, s.span_id) for s in spans}) == 14


def test_trace_tree_and_skeleton(client: Client, seed: Any) -> None:
    tree = client.trace(seed.ids["deep"])
    assert tree.summary.root_name == "agent.loop" and tree.summary.span_count == 5
    assert [(d, s.name) for d, s in tree.walk()] == [
        (0, "agent.loop"),
        (1, "step"),
        (2, "step"),
        (3, "chat claude"),
        (1, "chat claude"),
    ]
    skeleton = client.skeleton(seed.ids["deep"])
    assert skeleton.total == 5 and skeleton.next_cursor is None
    assert [(n.depth, n.name) for n in skeleton] == [(d, s.name) for d, s in tree.walk()]
    root = skeleton.nodes[0]
    assert (root.child_count, root.subtree.span_count, root.subtree.input_tokens) == (2, 5, 17)
    level = client.skeleton(seed.ids["deep"], parent="root")
    assert [n.name for n in level] == ["agent.loop"]
    first = client.skeleton(seed.ids["deep"], limit=2)
    rest = client.skeleton(seed.ids["deep"], limit=10, cursor=first.next_cursor)
    assert [n.span_id for n in [*first, *rest]] == [n.span_id for n in skeleton]


def test_sessions(client: Client, seed: Any) -> None:
    sessions = {s.session_id: s for s in client.iter_sessions(page_size=1)}
    assert sessions["sess-1"].trace_count == 2 and sessions["sess-2"].error_count == 1
    first = client.sessions(limit=1)
    assert len(first) == 1 and first.next_cursor is not None
    detail = client.session("sess-1")
    assert [(t.trace.trace_id, t.input, t.output) for t in detail] == [
        (seed.ids["rag_empty"], "Where is Atlantis?", 'Nobody knows 100% "exactly".'),
        (seed.ids["rag_ok"], "Capital of France?", "Paris"),
    ]
    assert detail.truncated is False


def test_stats(client: Client) -> None:
    stats = client.stats(bucket="1m", group_by="model", since=BASE_NS, until=BASE_NS + 240 * S)
    rows = {(r.bucket_start_ns, r.group): r for r in stats}
    first = rows[(BASE_NS // (60 * S) * (60 * S), "gpt-4o")]  # buckets start on the minute
    assert first.count == 1 and first.p50_ns == 6 * S
    assert stats.bucket_ns == 60 * S and stats.group_by == "model"
    errors = client.stats(q="{ status = error }", **MINE)
    assert [r.count for r in errors] == [2]  # stats honour q: the two error spans
    assert [r.count for r in client.stats(session_id="sess-2", **MINE)] == [3]


def test_trace_level_stats(client: Client) -> None:
    traces = client.stats(level="trace", bucket="1m", since=BASE_NS, until=BASE_NS + 240 * S)
    assert traces.level == "trace" and [r.count for r in traces] == [1, 1, 1, 1]
    assert [r.error_count for r in traces] == [0, 0, 1, 0]
    by_service = client.stats(level="trace", group_by="service", **MINE).to_pandas()
    assert dict(zip(by_service["group"], by_service["count"], strict=True)) == {
        "agent-svc": 2,
        "rag-svc": 2,
    }
    assert client.stats(**MINE).level == "span"


def test_errors_are_one_exception_type(client: Client, seed: Any) -> None:
    with pytest.raises(APIError) as syntax:
        client.search_traces("{ name = }")
    assert (syntax.value.status, syntax.value.code) == (400, "invalid_query")
    assert syntax.value.position == 9 and syntax.value.expected
    with pytest.raises(APIError) as missing:
        client.trace("0" * 32)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(APIError) as invalid:
        client.search_traces(limit=0)
    assert (invalid.value.status, invalid.value.code) == (400, "invalid_request")
    assert "limit" in invalid.value.message
    with pytest.raises(APIError) as session:
        client.session("no/such session")
    assert session.value.status == 404
    with pytest.raises(APIError) as down:
        Client("http://127.0.0.1:9", timeout=5).search_traces()
    assert (down.value.status, down.value.code) == (0, "connection_failed")


def test_to_pandas(client: Client, seed: Any) -> None:
    pd = pytest.importorskip("pandas")
    frame = client.search_traces(**MINE).to_pandas()
    assert isinstance(frame, pd.DataFrame)
    assert set(frame["trace_id"]) == {
        seed.ids[n] for n in ("rag_empty", "rag_ok", "tool_err", "deep")
    }
    assert frame.set_index("trace_id").loc[seed.ids["tool_err"], "total_tokens"] == 340
    spans = client.search_spans(**MINE).to_pandas()
    assert len(spans) == 14 and {"status", "attributes", "model"} <= set(spans.columns)
    empty = client.search_traces(service="no-such-service").to_pandas()
    assert len(empty) == 0
    stats = client.stats(group_by="category", **MINE).to_pandas()
    assert dict(zip(stats["group"], stats["count"], strict=True))["retriever"] == 2


def test_dataframe_without_the_library_says_what_to_install(server: Any) -> None:
    """In a process where pandas and polars cannot be imported, the error names the package."""
    code = (
        "import sys\n"
        "sys.modules['pandas'] = None; sys.modules['polars'] = None\n"
        "import tracepond\n"
        f"page = tracepond.Client({server.url!r}).search_traces(limit=1)\n"
        "for method in (page.to_pandas, page.to_polars):\n"
        "    try:\n"
        "        method()\n"
        "    except ImportError as exc:\n"
        "        print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == [
        "to_pandas() needs pandas, which is not installed: pip install pandas",
        "to_polars() needs polars, which is not installed: pip install polars",
    ]
