"""SQL that deletes whole traces: their spans, their summary and the origins nobody uses.

A trace is always deleted whole, in one transaction with its summary, so that no read ever sees
a summary without spans or spans without a summary (sessions and stats are computed from
``traces``, so they follow). The spans' DELETE names the batch's ingest window as constants:
DuckDB then skips the row groups that cannot hold them by their ``ingested_ns`` zone maps, and
expired traces sit together in the oldest row groups.
"""

from __future__ import annotations

from typing import Any

from tracepond.store._literals import blob_literal, int_literal, project_literal

# A project's traces whose spans all ended before a moment (retention), oldest first.
EXPIRED = (
    "SELECT trace_id FROM traces WHERE project = $project AND end_ns < $cutoff"
    " ORDER BY end_ns, trace_id LIMIT $n"
)
# The oldest traces of any project, whatever their age (the size budget).
OLDEST = "SELECT project, trace_id FROM traces ORDER BY end_ns, trace_id LIMIT $n"
# Each project's own retention (NULL: the server-wide one).
RETENTIONS = "SELECT name, retention_ns FROM projects ORDER BY name"
# Origins no span refers to any more: a full scan of one small integer column, so it runs once
# per purge or deletion, not per batch.
ORPHAN_ORIGINS = (
    "DELETE FROM origins o WHERE NOT EXISTS (SELECT 1 FROM spans s WHERE s.origin_id = o.id)"
    " RETURNING id"
)


def locate(
    con: Any, project: str, trace_ids: list[bytes], ended_before: int | None
) -> list[tuple[Any, ...]]:
    """(trace_id, first_ingested_ns, last_ingested_ns) of the project's stored traces among
    ``trace_ids`` (only those that ended before ``ended_before`` when given: a trace that
    received a span since it was picked for expiry is no longer expired)."""
    sql = (
        "SELECT trace_id, first_ingested_ns, last_ingested_ns FROM traces"
        " WHERE project = $project AND trace_id = ANY($ids)"
    )
    params: dict[str, Any] = {"project": project, "ids": trace_ids}
    if ended_before is not None:
        sql += " AND end_ns < $cutoff"
        params["cutoff"] = ended_before
    return list(con.execute(sql, params).fetchall())


def delete_located(con: Any, project: str, located: list[tuple[Any, ...]]) -> None:
    """Delete the spans and summaries of ``located`` (from ``locate``: the project's traces),
    inside the caller's transaction. Another project's trace of the same id is not touched."""
    first = min(int(row[1]) for row in located)
    last = max(int(row[2]) for row in located)
    ids = ", ".join(blob_literal(row[0]) for row in located)
    in_project = f"project = {project_literal(project)}"
    con.execute(
        f"DELETE FROM spans WHERE ingested_ns BETWEEN {int_literal(first)}"
        f" AND {int_literal(last)} AND {in_project} AND trace_id IN ({ids})"
    )
    con.execute(f"DELETE FROM traces WHERE {in_project} AND trace_id IN ({ids})")


def used_file_bytes(con: Any) -> int:
    """Bytes of the database file's blocks in use (its free blocks, which later writes reuse,
    excluded): what a size budget is about, since the file itself never shrinks."""
    rows = con.execute(
        "SELECT used_blocks * block_size FROM pragma_database_size()"
        " WHERE database_name = current_database()"
    ).fetchall()
    return int(rows[0][0] or 0) if rows else 0
