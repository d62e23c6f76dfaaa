"""Sessions: traces grouped by the session id their spans reported (kept in ``traces``)."""

from __future__ import annotations

from typing import Any

from tracepond.model.records import SessionRow, TraceSummary
from tracepond.store._params import Params
from tracepond.store._search import SUMMARY_COLUMNS


def sessions(
    cursor: Any,
    limit: int,
    after: tuple[int, str] | None,
    since_ns: int | None,
    user_id: str | None,
    project: str,
) -> list[SessionRow]:
    """``limit + 1`` sessions at most (the caller tells a further page from the extra one),
    after the session ``after`` (last seen, session id)."""
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
    return [SessionRow(*row) for row in rows]


def session_traces(cursor: Any, session_id: str, limit: int, project: str) -> list[TraceSummary]:
    rows = cursor.execute(
        f"SELECT {SUMMARY_COLUMNS} FROM traces t WHERE t.project = $project"
        " AND t.session_id = $sid ORDER BY t.start_ns, t.trace_id LIMIT $n",
        {"sid": session_id, "n": limit, "project": project},
    ).fetchall()
    return [TraceSummary(*row) for row in rows]
