"""Deletion, retention, projects and API keys on the ClickHouse store, side by side with the
DuckDB store: the same calls leave the same reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.errors import ProjectExists, ProjectNotFound
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.filters import Filters
from tracepond.model.keys import KeyRecord
from tracepond.model.records import SearchRequest, StatsRequest
from tracepond.model.spans import SpanBatch
from tracepond.store.duckdb_store import DuckDBStore

from .stores import open_chdb_store

SECOND = 1_000_000_000
DECODER = SpanDecoder(max_attribute_bytes=1 << 20)


def duckdb_store(path: Path) -> Any:
    return DuckDBStore(path / "maintenance.duckdb", threads=1)


@pytest.fixture(params=[duckdb_store, open_chdb_store], ids=["duckdb", "chdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    factory: Callable[[Path], Any] = request.param
    opened = factory(tmp_path)
    yield opened
    opened.close()


def batch(*spans: Any, project: str = "default", service: str = "svc") -> SpanBatch:
    decoded = DECODER.decode(make_request(spans, service=service))
    return batch_from_table(to_arrow(decoded.rows), decoded.rows.origins, project)


def one_trace(start: int, name: str, project: str = "default", **extra: Any) -> tuple[bytes, Any]:
    trace, root = trace_id(), span_id()
    spans = [
        make_span(trace, root, name, start=start, end=start + SECOND, **extra),
        make_span(trace, span_id(), "child", parent=root, start=start + 1, end=start + 2),
    ]
    return trace, batch(*spans, project=project)


def test_deleting_traces_removes_them_from_every_read(store: Any) -> None:
    store.projects_create("other")
    old, old_batch = one_trace(BASE_NS, "old", attributes={"session.id": "s1"})
    new, new_batch = one_trace(BASE_NS + 100 * SECOND, "new", attributes={"session.id": "s1"})
    # The same trace id in another project is another trace, and is not deleted with it.
    twin = batch(
        make_span(old, span_id(), "twin", start=BASE_NS, end=BASE_NS + 2 * SECOND), project="other"
    )
    store.write([old_batch, new_batch, twin])
    assert store.counts() == (5, 3)
    assert store.oldest_trace_ids(2) == [("default", old), ("other", old)]
    assert store.expired_trace_ids("default", BASE_NS + 50 * SECOND, 10) == [old]
    # ended_before: a trace that has not ended by then is kept.
    assert store.delete_traces("default", [old, new], ended_before=BASE_NS + 50 * SECOND) == 1
    assert store.delete_traces("default", [old, trace_id()]) == 0
    assert store.trace_summary(old) is None and store.trace_spans(old) == []
    assert store.skeleton_rows(old) == [] and store.trace_watermark(old) is None
    assert store.counts() == (3, 2) and store.counts("default") == (2, 1)
    assert [t.trace_id for t in store.list_traces(10).traces] == [new]
    page = store.search_spans(SearchRequest(Filters(since_ns=0)))
    assert page.count == 2
    sessions = store.sessions(10, None, None, None).rows
    assert [(s.session_id, s.trace_count) for s in sessions] == [("s1", 1)]
    stats = store.stats(StatsRequest(Filters(), 0, 2 * BASE_NS, None, None))
    assert stats[0].count == 2
    assert store.trace_summary(old, project="other") is not None
    store.drop_unused_origins()
    assert store.span(new, store.trace_spans(new)[0]["span_id"])["resource_json"] is not None
    # A trace written again after its deletion is a new trace.
    store.write([old_batch])
    summary = store.trace_summary(old)
    assert summary is not None and summary.span_count == 2
    assert store.used_bytes() > 0


def test_projects_and_retentions(store: Any) -> None:
    created = store.projects_create("team-a", "the A team", retention_ns=7 * 86400 * SECOND)
    assert (created.name, created.description, created.retention_ns) == (
        "team-a",
        "the A team",
        7 * 86400 * SECOND,
    )
    with pytest.raises(ProjectExists):
        store.projects_create("team-a")
    with pytest.raises(ProjectNotFound):
        store.projects_set_retention("nobody", None)
    _, spans = one_trace(BASE_NS, "a", project="team-a")
    store.write([spans])
    changed = store.projects_set_retention("team-a", None)
    assert changed.retention_ns is None and changed.created_ns == created.created_ns
    assert (changed.span_count, changed.trace_count) == (2, 1)
    assert [p.name for p in store.projects_list()] == ["default", "team-a"]
    assert store.project_retentions() == {"default": None, "team-a": None}
    assert store.projects_exists("team-a") and not store.projects_exists("team-b")


def test_api_keys(store: Any) -> None:
    key = KeyRecord("k1", "ci", "default", "ingest", "ab" * 32, 1000)
    store.insert_key(key)
    store.insert_key(KeyRecord("k2", "admin", None, "admin", "cd" * 32, 2000, expires_ns=9000))
    assert store.api_keys()[0] == key
    assert store.revoke_key("k1", 5000) and store.revoke_key("k1", 6000)
    assert not store.revoke_key("nope", 5000)
    revoked = store.api_keys()
    assert [(k.id, k.revoked_ns) for k in revoked] == [("k1", 5000), ("k2", None)]
    assert revoked[1].expires_ns == 9000
