"""DuckDB SQL of the Jaeger reads of the contract (``store/contract.py``, "Jaeger reads"):
services, operations, and the trace search (``model.jaeger.TraceQuery``, whose docstring says
what matches). Each function runs on the calling thread's read cursor."""

from __future__ import annotations

from typing import Any

from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.store._origins import RESOURCE_JSON
from tracepond.store._search_sql import json_path

ERROR_STATUS = 2


def _rows(cursor: Any, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    return list(cursor.execute(sql, params).fetchall())


def services(cursor: Any, project: str) -> list[str]:
    sql = "SELECT DISTINCT service_name FROM spans WHERE project = $project ORDER BY service_name"
    return [row[0] for row in _rows(cursor, sql, {"project": project})]


def operations(cursor: Any, project: str, service: str, kind: int | None) -> list[Operation]:
    sql = (
        "SELECT DISTINCT name, kind FROM spans WHERE project = $project AND service_name = $service"
    )
    params: dict[str, Any] = {"service": service, "project": project}
    if kind is not None:
        sql += " AND kind = $kind"
        params["kind"] = kind
    rows = _rows(cursor, sql + " ORDER BY name, kind", params)
    return [Operation(row[0], int(row[1])) for row in rows]


def find_trace_ids(cursor: Any, project: str, query: TraceQuery) -> list[bytes]:
    where: list[str] = ["project = $project"]
    params: dict[str, Any] = {"limit": query.limit, "project": project}
    if query.service is not None:
        where.append("service_name = $service")
        params["service"] = query.service
    if query.operation is not None:
        where.append("name = $operation")
        params["operation"] = query.operation
    bounds = (
        ("start_ns >= $start", "start", query.start_ns),
        ("start_ns <= $end", "end", query.end_ns),
        ("duration_ns >= $min_duration", "min_duration", query.min_duration_ns),
        ("duration_ns <= $max_duration", "max_duration", query.max_duration_ns),
    )
    for condition, name, value in bounds:
        if value is not None:
            where.append(condition)
            params[name] = value
    for i, (key, text) in enumerate(sorted(query.tags.items())):
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
    sql = (
        "SELECT trace_id, max(start_ns) AS latest FROM spans WHERE "
        + " AND ".join(where)
        + " GROUP BY trace_id ORDER BY latest DESC, trace_id DESC LIMIT $limit"
    )
    return [row[0] for row in _rows(cursor, sql, params)]
