"""Databases written by an older tracepond open, migrate, and read as before."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.otlp_build import make_span, span_id, trace_id
from store.test_conformance import table
from tracepond.query._render import span_node
from tracepond.store._schema import MIGRATIONS
from tracepond.store.duckdb_store import DuckDBStore


def _as_schema_1(path: Path) -> None:
    """Turn a current database into what schema version 1 wrote: no stored views."""
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
        assert store.schema_version == MIGRATIONS[-1][0] == 2
        found = store.trace(trace, columns="tree")
        assert found is not None
        (record,) = found[1]
        assert record["view_json"] is None  # derived on read until `tracepond reindex`
        assert span_node(record)["view"] == fresh_view
        assert fresh_view["category"] == "llm" and fresh_view["model"] == "gpt-4o"
    finally:
        store.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    DuckDBStore(path, memory_limit="64MB", threads=1).close()
    with duckdb.connect(str(path)) as con:
        con.execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'future')")
    with pytest.raises(Exception, match="newer than this tracepond"):
        DuckDBStore(path, memory_limit="64MB", threads=1)
