"""The ClickHouse schema: versioned migrations, the generated DDL (single node and cluster,
compared with checked-in copies), the TTL retention, and what a newer database is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracepond.errors import TracepondError
from tracepond.store.clickhouse._schema import all_statements, migrations

from .stores import open_chdb_store

EXPECTED = Path(__file__).parent / "expected"
# To accept a deliberate change, write the new text over the expected file:
#   PYTHONPATH=src python -c "from tracepond.store.clickhouse._schema import all_statements;
#   print(all_statements('tracepond', 'tracepond_cluster', 30), end='')" \
#   > tests/store/clickhouse/expected/cluster_ddl.sql   (and single_node_ddl.sql likewise)


def test_single_node_ddl_is_the_checked_in_text() -> None:
    expected = (EXPECTED / "single_node_ddl.sql").read_text()
    assert all_statements("tracepond", None, None) == expected


def test_cluster_ddl_is_the_checked_in_text() -> None:
    expected = (EXPECTED / "cluster_ddl.sql").read_text()
    assert all_statements("tracepond", "tracepond_cluster", 30) == expected


def cluster_statements() -> list[str]:
    text = all_statements("tracepond", "tracepond_cluster", 30)
    lines = [line for line in text.splitlines() if not line.startswith("-- ")]
    blocks = [block.strip() for block in "\n".join(lines).split(";\n")]
    return [block.rstrip(";") for block in blocks if block]


def test_every_cluster_statement_is_valid_clickhouse(tmp_path: Path) -> None:
    """chdb has no cluster to run ON CLUSTER against (nor a Keeper for replicated tables), so
    the engine's own parser checks each statement (formatQuery fails on any syntax error)."""
    store = open_chdb_store(tmp_path)
    try:
        client = store._writer.client
        statements = cluster_statements()
        assert len(statements) == 21
        for statement in statements:
            formatted = client.query(
                "SELECT formatQuery({s:String})", parameters={"s": statement}
            ).result_rows[0][0]
            assert "ON CLUSTER tracepond_cluster" in formatted or statement.startswith("INSERT")
        with pytest.raises(Exception, match="Syntax error"):
            client.query("SELECT formatQuery({s:String})", parameters={"s": "CREATE TABLE ("})
    finally:
        store.close()


def test_migrations_run_once_and_are_recorded(tmp_path: Path) -> None:
    newest = migrations("x", None)[-1].version
    first = open_chdb_store(tmp_path)
    try:
        assert first.schema_version == newest
        client = first._writer.client
        db = first.database
        recorded = client.query(
            f"SELECT version FROM {db}.schema_migrations FINAL ORDER BY version"
        )
        assert [row[0] for row in recorded.result_rows] == list(range(1, newest + 1))
        indexes = client.query(
            "SELECT name FROM system.data_skipping_indices WHERE database = {db:String}"
            " AND table = 'spans' ORDER BY name",
            parameters={"db": db},
        ).result_rows
        assert [row[0] for row in indexes] == ["search_text_ngrams", "session_bloom", "trace_bloom"]
    finally:
        first.close()
    # Opened again (and by a second receiver at the same time): nothing runs twice.
    second, third = open_chdb_store(tmp_path), open_chdb_store(tmp_path)
    try:
        assert second.schema_version == third.schema_version == newest
        client = second._writer.client
        rows = client.query(
            f"SELECT version, count() FROM {second.database}.schema_migrations FINAL"
            " GROUP BY version ORDER BY version"
        ).result_rows
        assert rows == [(v, 1) for v in range(1, newest + 1)]
        assert [p.name for p in second.projects_list()] == ["default"]
    finally:
        second.close()
        third.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    store = open_chdb_store(tmp_path)
    try:
        store._writer.client.command(
            f"INSERT INTO {store.database}.schema_migrations (version, description)"
            " VALUES (999, 'from a newer tracepond')"
        )
    finally:
        store.close()
    with pytest.raises(TracepondError, match="newer than this tracepond understands"):
        open_chdb_store(tmp_path)


def test_retention_by_ttl_drops_whole_day_partitions(tmp_path: Path) -> None:
    store = open_chdb_store(tmp_path, ttl_days=7)
    try:
        client = store._writer.client
        tables = dict(
            client.query(
                "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
                parameters={"db": store.database},
            ).result_rows
        )
        spans = tables["spans"]
        assert "PARTITION BY toDate(fromUnixTimestamp64Nano(start_ns))" in spans
        assert "TTL toDate(fromUnixTimestamp64Nano(start_ns)) + toIntervalDay(8)" in spans
        assert "ttl_only_drop_parts = 1" in spans
        assert (
            "TTL toDateTime(fromUnixTimestamp64Nano(end_ns)) + toIntervalDay(7)" in tables["traces"]
        )
    finally:
        store.close()
