"""Reads behind the Jaeger-compatible API (``tracepond.jaeger``): services, operations, and the
trace search. Every condition of a search applies to one span, as in Jaeger: a trace matches when
one of its spans has the service, the operation, every tag and a duration in range.

Tags match a span attribute or a resource attribute whose value, as JSON text (``true``, ``42``,
``gpt-4o``), equals the given string; ``error=true`` also matches spans with status ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tracepond.store._origins import RESOURCE_JSON
from tracepond.store._search_sql import json_path
from tracepond.store.duckdb_store import DuckDBStore

ERROR_STATUS = 2


@dataclass(frozen=True)
class JaegerSearch:
    service: str | None = None
    operation: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    limit: int = 20


def _rows(store: DuckDBStore, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    # The store's per-thread read cursor (reads never wait for the writer), with its deadline
    # and its error mapping.
    return store.select(sql, params)


def services(store: DuckDBStore, project: str) -> list[str]:
    sql = "SELECT DISTINCT service_name FROM spans WHERE project = $project ORDER BY service_name"
    rows = _rows(store, sql, {"project": project})
    return [row[0] for row in rows]


def operations(
    store: DuckDBStore, project: str, service: str, kind: int | None = None
) -> list[tuple[str, int]]:
    """(span name, OTLP span kind) pairs of one service."""
    sql = (
        "SELECT DISTINCT name, kind FROM spans WHERE project = $project AND service_name = $service"
    )
    params: dict[str, Any] = {"service": service, "project": project}
    if kind is not None:
        sql += " AND kind = $kind"
        params["kind"] = kind
    return [(row[0], int(row[1])) for row in _rows(store, sql + " ORDER BY name, kind", params)]


def find_trace_ids(store: DuckDBStore, project: str, search: JaegerSearch) -> list[bytes]:
    """Ids of the project's traces with a matching span, most recent match first."""
    where: list[str] = ["project = $project"]
    params: dict[str, Any] = {"limit": search.limit, "project": project}
    if search.service is not None:
        where.append("service_name = $service")
        params["service"] = search.service
    if search.operation is not None:
        where.append("name = $operation")
        params["operation"] = search.operation
    bounds = (
        ("start_ns >= $start", "start", search.start_ns),
        ("start_ns <= $end", "end", search.end_ns),
        ("duration_ns >= $min_duration", "min_duration", search.min_duration_ns),
        ("duration_ns <= $max_duration", "max_duration", search.max_duration_ns),
    )
    for condition, name, value in bounds:
        if value is not None:
            where.append(condition)
            params[name] = value
    for i, (key, text) in enumerate(sorted(search.tags.items())):
        params[f"path{i}"] = json_path(key)
        params[f"rpath{i}"] = "$.attributes." + json_path(key)[2:]
        params[f"value{i}"] = text
        matches = [
            f"json_extract_string(attributes_json, $path{i}) = $value{i}",
            f"json_extract_string({RESOURCE_JSON}, $rpath{i}) = $value{i}",
        ]
        if key == "error" and text.lower() == "true":
            matches.append(f"status_code = {ERROR_STATUS}")
        where.append("(" + " OR ".join(matches) + ")")
    sql = "SELECT trace_id, max(start_ns) AS latest FROM spans"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " GROUP BY trace_id ORDER BY latest DESC, trace_id DESC LIMIT $limit"
    return [row[0] for row in _rows(store, sql, params)]
