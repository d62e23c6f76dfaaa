"""The Jaeger reads of the contract on ClickHouse (the DuckDB store's ``store/_jaeger_sql.py``;
same answers): services, a service's operations, and the trace search (``TraceQuery``).

Spans are read without FINAL: a span stored twice (two receivers) names the same service,
operation and trace, so DISTINCT and GROUP BY fold its copies anyway.
"""

from __future__ import annotations

from typing import Any

from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._search_sql import json_text
from tracepond.store.clickhouse._sql import run

ERROR_STATUS = 2


def services(client: Any, db: str, project: str) -> list[str]:
    p = Params()
    sql = (
        f"SELECT DISTINCT service_name FROM {db}.spans WHERE project = {p.add(project)}"
        " ORDER BY service_name"
    )
    return [row[0] for row in run(client, sql, p)[1]]


def operations(
    client: Any, db: str, project: str, service: str, kind: int | None
) -> list[Operation]:
    p = Params()
    sql = (
        f"SELECT DISTINCT name, kind FROM {db}.spans WHERE project = {p.add(project)}"
        f" AND service_name = {p.add(service)}"
    )
    if kind is not None:
        sql += f" AND kind = {p.add(kind)}"
    rows = run(client, sql + " ORDER BY name, kind", p)[1]
    return [Operation(row[0], int(row[1])) for row in rows]


def find_trace_ids(client: Any, db: str, project: str, query: TraceQuery) -> list[bytes]:
    p = Params()
    where = [f"project = {p.add(project)}"]
    for column, value in (("service_name", query.service), ("name", query.operation)):
        if value is not None:
            where.append(f"{column} = {p.add(value)}")
    bounds = (
        ("start_ns >=", query.start_ns),
        ("start_ns <=", query.end_ns),
        ("duration_ns >=", query.min_duration_ns),
        ("duration_ns <=", query.max_duration_ns),
    )
    where += [f"{condition} {p.add(value)}" for condition, value in bounds if value is not None]
    where += [_tag(db, p, key, text) for key, text in sorted(query.tags.items())]
    sql = (
        f"SELECT trace_id, max(start_ns) AS latest FROM {db}.spans WHERE {' AND '.join(where)}"
        f" GROUP BY trace_id ORDER BY latest DESC, trace_id DESC LIMIT {p.add(query.limit)}"
    )
    return [row[0] for row in run(client, sql, p)[1]]


def _tag(db: str, p: Params, key: str, text: str) -> str:
    """A span attribute, or an attribute of the span's resource, equal to ``text`` as JSON
    text; ``error=true`` also matches an ERROR status."""
    value = p.add(text)
    resource = json_text("resource_json", p.add("attributes"), p.add(key))
    matches = [
        f"{json_text('attributes_json', p.add(key))} = {value}",
        f"origin_id IN (SELECT id FROM {db}.origins WHERE {resource} = {value})",
    ]
    if key == "error" and text.lower() == "true":
        matches.append(f"status_code = {ERROR_STATUS}")
    return "(" + " OR ".join(matches) + ")"
