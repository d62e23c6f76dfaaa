"""Bring a ClickHouse database to the newest schema (``_schema``); returns its version.

Statements are idempotent, so receivers starting together may run the same migration at once;
each records its version in ``schema_migrations`` after its statements succeeded."""

from __future__ import annotations

from typing import Any

from tracepond.errors import TracepondError
from tracepond.store.clickhouse._schema import bootstrap, migrations, ttl_statements
from tracepond.store.clickhouse._sql import run


def applied_versions(client: Any, database: str) -> set[int]:
    rows = run(client, f"SELECT DISTINCT version FROM {database}.schema_migrations")[1]
    return {int(row[0]) for row in rows}


def migrate(client: Any, database: str, cluster: str | None, ttl_days: int | None) -> int:
    for statement in bootstrap(database, cluster):
        client.command(statement)
    steps = migrations(database, cluster)
    applied = applied_versions(client, database)
    newest = steps[-1].version
    if applied and max(applied) > newest:
        raise TracepondError(
            f"ClickHouse database {database} has schema version {max(applied)}, newer than this"
            f" tracepond understands ({newest}); upgrade tracepond"
        )
    for step in steps:
        if step.version in applied:
            continue
        for statement in step.statements:
            client.command(statement)
        client.insert(
            f"{database}.schema_migrations",
            [(step.version, step.description)],
            column_names=["version", "description"],
        )
    if ttl_days is not None:
        for statement in ttl_statements(database, cluster, ttl_days):
            # Existing parts get their TTL as they merge, not by rewriting them all now.
            client.command(statement, settings={"materialize_ttl_after_modify": 0})
    return newest
