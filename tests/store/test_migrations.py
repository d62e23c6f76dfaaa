"""Databases written by an older tracepond open, migrate, and read as before."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from store.conformance.build import batch_of, table
from tracepond.model.filters import Filters
from tracepond.model.records import SearchRequest
from tracepond.query._render import span_node
from tracepond.query.ql_parser import parse
from tracepond.reindex import reindex
from tracepond.store._schema import MIGRATIONS
from tracepond.store.duckdb_store import DuckDBStore


def _as_schema_4(path: Path) -> None:
    """Turn a current database into what schema version 4 wrote: no projects; one trace summary
    per trace id; no API keys."""
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE IF EXISTS api_keys")  # migration 6
        con.execute("DROP TABLE projects")
        con.execute("ALTER TABLE spans DROP COLUMN project")
        con.execute("CREATE TABLE old_traces AS SELECT * EXCLUDE (project) FROM traces")
        con.execute("DROP TABLE traces")
        con.execute("ALTER TABLE old_traces RENAME TO traces")
        con.execute("ALTER TABLE traces ADD PRIMARY KEY (trace_id)")
        con.execute("DELETE FROM schema_migrations WHERE version > 4")


def _as_schema_3(path: Path) -> None:
    """Turn a current database into what schema version 3 wrote: no cost source or price."""
    _as_schema_4(path)
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE spans DROP COLUMN cost_source")
        con.execute("ALTER TABLE spans DROP COLUMN cost_price")
        con.execute("DELETE FROM schema_migrations WHERE version > 3")


def _as_schema_2(path: Path) -> None:
    """Turn a current database into what schema version 2 wrote: each span's resource and scope
    JSON inline, no origins."""
    _as_schema_3(path)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE spans SET resource_json = o.resource_json, scope_json = o.scope_json"
            " FROM origins o WHERE o.id = spans.origin_id"
        )
        con.execute("ALTER TABLE spans DROP COLUMN origin_id")
        con.execute("DROP TABLE origins")
        con.execute("DELETE FROM schema_migrations WHERE version > 2")


def _as_schema_1(path: Path) -> None:
    """Turn a current database into what schema version 1 wrote: no stored views either."""
    _as_schema_2(path)
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE spans DROP COLUMN view_json")
        con.execute("DELETE FROM schema_migrations WHERE version > 1")


def test_a_schema_1_database_gets_view_json_and_still_renders_views(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    trace, root = trace_id(), span_id()
    llm = make_span(
        trace,
        root,
        "chat gpt-4o",
        attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"},
    )
    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    store.write([table(llm)])
    found = store.trace(trace, columns="tree")
    assert found is not None
    fresh_view = span_node(found[1][0])["view"]
    assert found[1][0]["view_json"] is not None
    store.close()
    _as_schema_1(path)

    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    try:
        assert store.schema_version == MIGRATIONS[-1][0] == 6
        found = store.trace(trace, columns="tree")
        assert found is not None
        (record,) = found[1]
        assert record["view_json"] is None  # derived on read until `tracepond reindex`
        assert span_node(record)["view"] == fresh_view
        assert fresh_view["category"] == "llm" and fresh_view["model"] == "gpt-4o"
    finally:
        store.close()


def _write(store: DuckDBStore, trace: bytes, name: str, host: str) -> None:
    request = make_request([make_span(trace, span_id(), name)], resource={"host.name": host})
    store.write([batch_of(request)])


def _spans_on(store: DuckDBStore, host: str) -> set[str]:
    query = parse(f'{{ resource.host.name = "{host}" }}')
    page = store.search_spans(SearchRequest(Filters(query=query)))
    return {row["name"] for row in page.rows}


def test_a_schema_2_database_keeps_inline_origins_beside_new_ones(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    trace = trace_id()
    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    _write(store, trace, "old span", "host-a")
    store.close()
    _as_schema_2(path)

    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    try:
        assert store.schema_version == MIGRATIONS[-1][0]
        _write(store, trace, "new span", "host-a")
        _write(store, trace, "other host", "host-b")
        spans = store.trace_spans(trace)
        resources = {s["name"]: orjson.loads(s["resource_json"]) for s in spans}
        assert {n: r["attributes"]["host.name"] for n, r in resources.items()} == {
            "old span": "host-a",
            "new span": "host-a",
            "other host": "host-b",
        }
        assert all(orjson.loads(s["scope_json"])["schema_url"] == "" for s in spans)
        # Search by resource attribute reads both layouts.
        assert _spans_on(store, "host-a") == {"old span", "new span"}
        assert _spans_on(store, "host-b") == {"other host"}
    finally:
        store.close()


def test_a_schema_3_database_opens_with_costs_as_sent_until_reindexed(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    trace = trace_id()
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.usage.input_tokens": 1_000_000,
    }
    sent = {**attributes, "gen_ai.usage.cost": 0.5}
    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    store.write([table(make_span(trace, span_id(), "chat", attributes=attributes))])
    store.write([table(make_span(trace, span_id(), "chat sent", attributes=sent))])
    store.close()
    _as_schema_3(path)
    with duckdb.connect(str(path)) as con:  # what schema 3 stored: no computed costs
        con.execute("UPDATE spans SET cost = NULL WHERE name = 'chat'")

    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    try:
        assert store.schema_version == MIGRATIONS[-1][0]
        spans = {s["name"]: s for s in store.trace_spans(trace)}
        assert (spans["chat"]["cost"], spans["chat"]["cost_source"]) == (None, None)
        views = {name: span_node(record)["view"] for name, record in spans.items()}
        assert (views["chat sent"]["cost"], views["chat sent"]["cost_source"]) == (0.5, "sent")
        assert views["chat"]["cost_source"] is None
        reindex(store, lambda *_: None)
        spans = {s["name"]: s for s in store.trace_spans(trace)}
        assert spans["chat"]["cost"] == pytest.approx(0.15)
        assert spans["chat"]["cost_price"] == "genai-prices:openai/gpt-4o-mini"
        assert span_node(spans["chat"])["view"]["cost_source"] == "computed"
        assert spans["chat sent"]["cost"] == 0.5
    finally:
        store.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    DuckDBStore(path, memory_limit="64MB", threads=1).close()
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'future')")
    with pytest.raises(Exception, match="newer than this tracepond"):
        DuckDBStore(path, memory_limit="64MB", threads=1)
