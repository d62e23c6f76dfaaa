"""Sessions: traces grouped by the session id their spans reported (kept in ``traces``)."""

from __future__ import annotations

from typing import Any

from tracepond.model.records import TraceSummary
from tracepond.store._params import Params
from tracepond.store._search import SUMMARY_COLUMNS

_SESSION_COLUMNS = (
    "session_id",
    "first_seen_ns",
    "last_seen_ns",
    "trace_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "error_count",
    "user_id",
)


def sessions(
    cursor: Any,
    limit: int,
    after: tuple[int, str] | None,
    since_ns: int | None,
    user_id: str | None,
    project: str,
) -> list[dict[str, Any]]:
    p = Params()
    where = [f"t.project = {p.add(project)}", "t.session_id IS NOT NULL"]
    if since_ns is not None:
        where.append(f"t.end_ns >= {p.add(since_ns)}")
    if user_id is not None:
        where.append(f"t.user_id = {p.add(user_id)}")
    having = ""
    if after is not None:
        last, sid = p.add(after[0]), p.add(after[1])
        having = (
            f" HAVING max(t.end_ns) < {last} OR (max(t.end_ns) = {last} AND t.session_id < {sid})"
        )
    # error_count counts traces with at least one error span.
    sql = (
        "SELECT t.session_id, min(t.start_ns), max(t.end_ns), count(*), sum(t.input_tokens),"
        " sum(t.output_tokens), sum(t.total_tokens), sum(t.cost),"
        " count(*) FILTER (t.error_count > 0),"
        " any_value(t.user_id)"
        f" FROM traces t WHERE {' AND '.join(where)} GROUP BY t.session_id{having}"
        f" ORDER BY max(t.end_ns) DESC, t.session_id DESC LIMIT {p.add(limit + 1)}"
    )
    rows = cursor.execute(sql, p.for_sql(sql)).fetchall()
    return [dict(zip(_SESSION_COLUMNS, row, strict=True)) for row in rows]


def session_traces(cursor: Any, session_id: str, limit: int, project: str) -> list[TraceSummary]:
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM traces t WHERE t.project = $project"
        " AND t.session_id = $sid ORDER BY t.start_ns, t.trace_id LIMIT $n",
        {"sid": session_id, "n": limit, "project": project},
    ).fetchall()
    return [TraceSummary(*row) for row in rows]
