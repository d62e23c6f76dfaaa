"""Running statements: rows, dict records and columns from a client, with a read's settings
and cancellation marker (``_session.Sessions``)."""

from __future__ import annotations

from typing import Any, Final

from tracepond.store.clickhouse._params import Params

# Byte columns come back as bytes, not decoded text.
_BYTES: Final = {"trace_id": "bytes", "span_id": "bytes", "parent_span_id": "bytes"}


def run(
    client: Any, sql: str, params: Params | dict[str, Any] | None = None, settings: Any = None
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """(column names, rows) of a statement."""
    values = params.values if isinstance(params, Params) else (params or {})
    result = client.query(sql, parameters=values, settings=settings or None)
    return list(result.column_names), [tuple(row) for row in result.result_rows]


def records(
    client: Any, sql: str, params: Params | dict[str, Any] | None = None, settings: Any = None
) -> list[dict[str, Any]]:
    names, rows = run(client, sql, params, settings)
    return [dict(zip(names, row, strict=True)) for row in rows]


def scalar(client: Any, sql: str, params: Params | dict[str, Any] | None = None) -> Any:
    _, rows = run(client, sql, params)
    return rows[0][0] if rows else None


def start_range(alias: str, low: str, high: str) -> str:
    """Spans (``alias``: "" or "s.") starting between two nanosecond parameters: by start hour,
    the same function the sort key uses, so that the primary index prunes by it, and by start
    time, which prunes day partitions by their min-max index."""
    return (
        f"{alias}start_hour BETWEEN toStartOfHour(fromUnixTimestamp64Nano({low}))"
        f" AND toStartOfHour(fromUnixTimestamp64Nano({high}))"
        f" AND {alias}start_ns BETWEEN {low} AND {high}"
    )
