"""Deletion, retention and sizes.

Traces are deleted by query (lightweight ``DELETE``, synchronous), spans first, then their
summaries: a read never finds a summary whose spans are partly gone for longer than the second
statement takes. With a cluster the deletes run on the local tables ``ON CLUSTER`` (a
Distributed table takes no DELETE). The server's retention can also be a table TTL that drops
whole day partitions (``ClickHouseStore(ttl_days=…)``); per-project retentions and the size
budget go through the methods below, which the retention task calls as it does on DuckDB.
"""

from __future__ import annotations

from typing import Any

from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._sql import run, scalar


def located(
    client: Any, db: str, project: str, trace_ids: list[bytes], ended_before: int | None
) -> list[bytes]:
    """The project's stored traces among ``trace_ids`` (with ``ended_before``: only those whose
    spans all ended before it)."""
    p = Params()
    sql = (
        f"SELECT trace_id FROM {db}.traces FINAL"
        f" WHERE project = {p.add(project)} AND trace_id IN {p.add(trace_ids)}"
    )
    if ended_before is not None:
        sql += f" AND end_ns < {p.add(ended_before)}"
    return [row[0] for row in run(client, sql, p)[1]]


def delete(client: Any, db: str, cluster: str | None, project: str, trace_ids: list[bytes]) -> None:
    for table in ("spans", "traces"):
        p = Params()
        target = f"{db}.{table}_local ON CLUSTER `{cluster}`" if cluster else f"{db}.{table}"
        client.command(
            f"DELETE FROM {target} WHERE project = {p.add(project)}"
            f" AND trace_id IN {p.add(trace_ids)}",
            parameters=p.values,
            settings={"lightweight_deletes_sync": 2},
        )


def drop_unused_origins(client: Any, db: str, cluster: str | None) -> list[int]:
    unused = (
        f"SELECT id FROM {db}.origins WHERE id NOT IN"
        f" (SELECT DISTINCT origin_id FROM {db}.spans WHERE origin_id IS NOT NULL)"
    )
    ids = [row[0] for row in run(client, unused)[1]]
    if ids:
        p = Params()
        target = f"{db}.origins_local ON CLUSTER `{cluster}`" if cluster else f"{db}.origins"
        client.command(
            f"DELETE FROM {target} WHERE id IN {p.add(ids)}",
            parameters=p.values,
            settings={"lightweight_deletes_sync": 2},
        )
    return ids


def expired(client: Any, db: str, project: str, ended_before: int, limit: int) -> list[bytes]:
    p = Params()
    sql = (
        f"SELECT trace_id FROM {db}.traces FINAL WHERE project = {p.add(project)}"
        f" AND end_ns < {p.add(ended_before)} ORDER BY end_ns, trace_id LIMIT {p.add(limit)}"
    )
    return [row[0] for row in run(client, sql, p)[1]]


def oldest(client: Any, db: str, limit: int) -> list[tuple[str, bytes]]:
    p = Params()
    sql = (
        f"SELECT project, trace_id FROM {db}.traces FINAL"
        f" ORDER BY end_ns, trace_id LIMIT {p.add(limit)}"
    )
    return [(row[0], row[1]) for row in run(client, sql, p)[1]]


def used_bytes(client: Any, db: str) -> int:
    """Bytes on disk of the database's active parts (of this node; a cluster's total is the
    sum over its nodes)."""
    p = Params()
    sql = f"SELECT sum(bytes_on_disk) FROM system.parts WHERE database = {p.add(db)} AND active"
    return int(scalar(client, sql, p) or 0)
