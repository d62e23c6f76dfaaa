"""A trace's spans without payloads: what the tree skeleton of a huge trace needs."""

from __future__ import annotations

from typing import Any

from tracepond.store.base import SpanRecord

_COLUMNS = (
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "service_name",
    "start_ns",
    "end_ns",
    "status_code",
    "category",
    "model",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
)


def skeleton_rows(cursor: Any, trace_id: bytes) -> list[SpanRecord]:
    window = cursor.execute(
        "SELECT first_ingested_ns, last_ingested_ns FROM traces WHERE trace_id = ?", [trace_id]
    ).fetchall()
    if not window:
        return []
    # The window as constants lets the ingested_ns zone maps prune (a subquery would not).
    rows = cursor.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM spans WHERE ingested_ns BETWEEN $first AND $last"
        " AND trace_id = $id",
        {"first": window[0][0], "last": window[0][1], "id": trace_id},
    ).fetchall()
    return [dict(zip(_COLUMNS, row, strict=True)) for row in rows]
