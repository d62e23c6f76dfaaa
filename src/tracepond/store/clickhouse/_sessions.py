"""Sessions: traces grouped by the session id their spans reported (kept in the summaries)."""

from __future__ import annotations

from typing import Any

from tracepond.model.records import SessionRow, TraceSummary
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._reads import SUMMARY_SELECT, summary
from tracepond.store.clickhouse._sql import run


def sessions(
    client: Any,
    db: str,
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
        having = f" HAVING last_seen < {last} OR (last_seen = {last} AND sid < {sid})"
    # error_count counts traces with at least one error span; user_id: any of the session's.
    sql = (
        "SELECT assumeNotNull(t.session_id) AS sid, min(t.start_ns), max(t.end_ns) AS last_seen,"
        " count(), sum(t.input_tokens), sum(t.output_tokens), sum(t.total_tokens),"
        " sumOrNull(t.cost), countIf(t.error_count > 0), any(t.user_id)"
        f" FROM {db}.traces AS t FINAL WHERE {' AND '.join(where)} GROUP BY sid{having}"
        f" ORDER BY last_seen DESC, sid DESC LIMIT {p.add(limit + 1)}"
    )
    return [_session_row(row) for row in run(client, sql, p)[1]]


def _session_row(row: tuple[Any, ...]) -> SessionRow:
    sid, first, last, count, tokens_in, tokens_out, total, cost, errors, user = row
    return SessionRow(
        sid, first, last, int(count), tokens_in, tokens_out, total, cost, int(errors), user
    )


def session_traces(
    client: Any, db: str, session_id: str, limit: int, project: str
) -> list[TraceSummary]:
    p = Params()
    sql = (
        f"SELECT {SUMMARY_SELECT} FROM {db}.traces AS t FINAL"
        f" WHERE t.project = {p.add(project)} AND t.session_id = {p.add(session_id)}"
        f" ORDER BY t.start_ns, t.trace_id LIMIT {p.add(limit)}"
    )
    return [summary(row) for row in run(client, sql, p)[1]]
