"""The client as a notebook user reads it: pages under the API's names, DataFrames with real
timestamps, span rows with their normalized messages, documents and tool calls, and traces as
dataset rows (root input and output). Against the real seeded server."""

from __future__ import annotations

from typing import Any

import pytest

import tracepond
from ingest.otlp_build import BASE_NS
from search.seed import S
from tracepond import client as api
from tracepond.client import Client

MINE: dict[str, Any] = {"since": BASE_NS, "until": BASE_NS + 200 * S}


@pytest.fixture(scope="module")
def client(server: Any) -> Client:
    return tracepond.Client(server.url)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "parts": [{"type": "text", "content": text}]}]


def assistant(text: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "parts": [{"type": "text", "content": text}]}]


def test_pages_use_the_apis_names(client: Client, server: Any) -> None:
    traces = client.search_traces(**MINE)
    assert isinstance(traces, api.TracePage)
    raw = server.get_json("/api/traces", since=BASE_NS, until=BASE_NS + 200 * S)
    assert [t.trace_id for t in traces.traces] == [t["trace_id"] for t in raw["traces"]]
    assert traces.items is traces.traces  # the old name still works
    spans = client.search_spans(**MINE)
    assert isinstance(spans, api.SpanPage) and spans.items is spans.spans and len(spans.spans) == 14
    sessions = client.sessions(since=BASE_NS)
    assert isinstance(sessions, api.SessionPage) and sessions.items is sessions.sessions
    assert {"sess-1", "sess-2"} <= {s.session_id for s in sessions.sessions}


def test_to_pandas_gives_utc_timestamps_and_durations(client: Client, seed: Any) -> None:
    pd = pytest.importorskip("pandas")
    frame = client.search_traces(**MINE).to_pandas().set_index("trace_id")
    assert str(frame["start_time"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["end_time"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["duration"].dtype) == "timedelta64[ns]"
    assert not {"start_time_unix_nano", "end_time_unix_nano", "duration_ns"} & set(frame.columns)
    rag_empty = frame.loc[seed.ids["rag_empty"]]
    assert rag_empty["start_time"] == pd.Timestamp(BASE_NS, unit="ns", tz="UTC")
    assert rag_empty["duration"] == pd.Timedelta(seconds=8)
    spans = client.search_spans(**MINE).to_pandas()
    assert str(spans["start_time"].dtype) == "datetime64[ns, UTC]"
    sessions = client.sessions(since=BASE_NS).to_pandas()
    assert str(sessions["first_seen"].dtype) == "datetime64[ns, UTC]"
    stats = client.stats(bucket="60s", **MINE).to_pandas()
    assert str(stats["bucket_start"].dtype) == "datetime64[ns, UTC]"
    assert str(stats["p95"].dtype) == "timedelta64[ns]"


def test_span_rows_carry_the_normalized_fields(client: Client, seed: Any) -> None:
    pytest.importorskip("pandas")
    frame = client.search_spans(**MINE).to_pandas().set_index("span_id")
    llm = frame.loc[seed.span_ids["rag_empty.llm"]]
    assert llm["input_messages"] == user("Where is Atlantis?")
    assert llm["output_messages"] == assistant('Nobody knows 100% "exactly".')
    retrieved = frame.loc[seed.span_ids["rag_ok.ret"]]
    assert [d["content"] for d in retrieved["documents"]] == ["Paris is in France", "Rome"]
    tool = frame.loc[seed.span_ids["tool_err.tool"]]
    assert tool["tool"]["name"] == "search" and tool["tool"]["arguments"] is not None
    # The same fields on the typed hits, and none of the extra requests when not wanted.
    hits = {h.span_id: h for h in client.search_spans(**MINE)}
    assert hits[seed.span_ids["rag_empty.llm"]].view is not None
    bare = client.search_spans(views=False, **MINE)
    assert all(h.view is None for h in bare.spans)
    assert "input_messages" not in bare.to_pandas().columns


def test_traces_as_dataset_rows(client: Client, seed: Any) -> None:
    page = client.search_traces(service="rag-svc", **MINE)
    rows = {row.trace.trace_id: row for row in client.trace_data(page.traces)}
    empty = rows[seed.ids["rag_empty"]]
    assert isinstance(empty, api.TraceData)
    assert empty.input == "Where is Atlantis?"
    assert empty.tags == ["beta", "eu"]
    assert empty.spans is None
    record = empty.record()
    assert record["trace_id"] == seed.ids["rag_empty"] and record["input"] == empty.input
    with_spans = client.trace_data([seed.ids["rag_empty"]], spans=True)[0]
    assert with_spans.input == empty.input
    assert with_spans.spans is not None
    names = [(s["depth"], s["name"]) for s in with_spans.spans]
    assert names[0] == (0, "rag.query") and {(1, "vector.search"), (1, "chat gpt-4o")} <= set(names)
    llm = next(s for s in with_spans.spans if s["name"] == "chat gpt-4o")
    assert llm["input_messages"] == user("Where is Atlantis?")
    assert llm["usage"]["input_tokens"] == 100 and llm["model"] == "gpt-4o"
