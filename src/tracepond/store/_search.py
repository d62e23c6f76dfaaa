"""Trace and span search on DuckDB: filtered, sorted, keyset-paged, counted.

Pagination is a snapshot: the first page fixes ``as_of`` (the newest ingest time then) and
later pages see only spans and traces committed by then, so spans arriving meanwhile neither
shift pages nor change the count; the keyset (sort value, ids) continues after the last row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tracepond.model.filters import Filters
from tracepond.model.records import SPAN_HIT_COLUMNS, SearchPage, SearchRequest, TraceSummary
from tracepond.store import _search_sql as q
from tracepond.store import _tokens
from tracepond.store._params import Params
from tracepond.store._ql_sql import QueryCompiler
from tracepond.store._search_previews import with_previews

SUMMARY_COLUMNS = (
    "t.trace_id, t.root_span_id, t.root_name, t.service_name, t.start_ns, t.end_ns, t.span_count,"
    " t.error_count, t.input_tokens, t.output_tokens, t.total_tokens, t.cost, t.models,"
    " t.session_id, t.user_id, t.llm_count, t.tool_count, t.retriever_count"
)


@dataclass
class _Query:
    """A statement being assembled: CTEs, conditions, and their parameters."""

    params: Params
    ctes: list[str]
    where: list[str]

    def with_clause(self) -> str:
        return ("WITH RECURSIVE " + ", ".join(self.ctes) + " ") if self.ctes else ""


def watermark(cursor: Any, project: str) -> int:
    """The project's newest ingest time (another project's would tell when it last wrote)."""
    rows = cursor.execute(
        "SELECT coalesce(max(last_ingested_ns), 0) FROM traces WHERE project = $p", {"p": project}
    ).fetchall()
    return int(rows[0][0])


def _window(cursor: Any, trace_where: list[str], params: Params) -> tuple[int, int] | None:
    """The ingest window of the traces meeting ``trace_where``; None when there are none."""
    where = " AND ".join(trace_where) or "TRUE"
    sql = f"SELECT min(t.first_ingested_ns), max(t.last_ingested_ns) FROM traces t WHERE {where}"
    row = cursor.execute(sql, params.for_sql(sql)).fetchall()[0]
    return None if row[0] is None else (int(row[0]), int(row[1]))


def _window_sql(window: tuple[int, int], params: Params, project: str, alias: str = "") -> str:
    """Spans of ``project`` committed in ``window``."""
    column = f"{alias}ingested_ns"
    return (
        f"{column} BETWEEN {params.add(window[0])} AND {params.add(window[1])}"
        f" AND {alias}project = {params.add(project)}"
    )


def search_traces(cursor: Any, request: SearchRequest) -> SearchPage[TraceSummary]:
    f = request.filters
    position = _tokens.search_position(request, "traces")
    as_of = position.as_of if position.as_of is not None else watermark(cursor, f.project)
    query = _Query(Params(), [], [])
    query.where = q.trace_conditions(f, query.params)
    query.where.append(f"t.first_ingested_ns <= {query.params.add(as_of)}")
    span_predicates = q.trace_span_predicates(f, query.params)
    if span_predicates or f.query is not None:
        window = _window(cursor, query.where, query.params)
        if window is None:
            return SearchPage([], None, 0, False, as_of)
        # Spans that reached a listed trace after the snapshot must not make it match: later
        # pages and the count would disagree with the first page.
        window = (window[0], min(window[1], as_of))
        _add_span_semijoins(query, f, span_predicates, window)
    sort = q.TRACE_SORT[request.sort]
    if span_predicates or f.query is not None:
        page = _page_once(cursor, query, request, position.after, as_of, sort)
    else:
        table, ids = "traces t", ["t.trace_id"]
        page = _page(
            cursor,
            query,
            _Keyset("traces", position.after, ids),
            request,
            as_of,
            table,
            SUMMARY_COLUMNS,
            sort,
            _summary,
        )
    return replace(page, rows=with_previews(cursor, page.rows, f.project))


def _add_span_semijoins(
    query: _Query, f: Filters, predicates: list[str], window: tuple[int, int]
) -> None:
    p = query.params
    for predicate in predicates:
        spans = _window_sql(window, p, f.project, "s.")
        query.where.append(
            f"t.trace_id IN (SELECT s.trace_id FROM spans s WHERE {spans} AND {predicate})"
        )
    if f.query is not None:
        compiler = QueryCompiler(p, _window_sql(window, p, f.project))
        result = compiler.compile(f.query)
        query.ctes += compiler.ctes
        query.where.append(f"t.trace_id IN (SELECT trace_id FROM {result})")


def search_spans(cursor: Any, request: SearchRequest) -> SearchPage[dict[str, Any]]:
    f = request.filters
    position = _tokens.search_position(request, "spans")
    as_of = position.as_of if position.as_of is not None else watermark(cursor, f.project)
    query = _Query(Params(), [], [])
    p = query.params
    trace_where = [f"t.project = {p.add(f.project)}", f"t.first_ingested_ns <= {p.add(as_of)}"]
    trace_where += q._range(p, "t.end_ns", f.since_ns, None) + q._range(
        p, "t.start_ns", None, f.until_ns
    )
    for column, value in (("t.session_id", f.session_id), ("t.user_id", f.user_id)):
        if value is not None:
            trace_where.append(f"{column} = {p.add(value)}")
    window = _window(cursor, trace_where, p)
    if window is None:
        return SearchPage([], None, 0, False, as_of)
    query.where = [_window_sql(window, p, f.project, "s."), f"s.ingested_ns <= {p.add(as_of)}"]
    query.where += q.span_conditions(f, p)
    if f.session_id is not None or f.user_id is not None:
        query.where.append(
            f"s.trace_id IN (SELECT t.trace_id FROM traces t WHERE {' AND '.join(trace_where)})"
        )
    if f.query is not None:
        compiler = QueryCompiler(p, _window_sql(window, p, f.project))
        result = compiler.compile(f.query)
        query.ctes += compiler.ctes
        query.where.append(
            f"EXISTS (SELECT 1 FROM {result} r"
            " WHERE r.trace_id = s.trace_id AND r.span_id = s.span_id)"
        )
    columns = ", ".join(f"s.{c}" for c in SPAN_HIT_COLUMNS)
    sort = q.SPAN_SORT[request.sort]
    keyset = _Keyset("spans", position.after, ["s.trace_id", "s.span_id"])
    return _page(cursor, query, keyset, request, as_of, "spans s", columns, sort, _hit)


@dataclass(frozen=True)
class _Keyset:
    """Which search pages (for its tokens), where the page starts, and the id columns that
    break ties of the sort value."""

    what: str
    after: tuple[Any, ...] | None
    ids: list[str]


def _page(
    cursor: Any,
    query: _Query,
    keyset: _Keyset,
    request: SearchRequest,
    as_of: int,
    table: str,
    columns: str,
    sort: str,
    make: Any,
) -> SearchPage[Any]:
    p = query.params
    base_where = " AND ".join(query.where) or "TRUE"
    count_sql = (
        f"{query.with_clause()}SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {base_where}"
        f" LIMIT {p.add(request.count_cap + 1)})"
    )
    count = int(cursor.execute(count_sql, p.for_sql(count_sql)).fetchall()[0][0])
    where = base_where
    ids = keyset.ids
    if keyset.after is not None:
        where += " AND " + q.keyset(sort, request.descending, keyset.after, ids, p)
    sql = (
        f"{query.with_clause()}SELECT {columns}, {sort} AS sort_value FROM {table} WHERE {where}"
        f" ORDER BY {q.order_by(sort, request.descending, ids)} LIMIT {p.add(request.limit + 1)}"
    )
    result = cursor.execute(sql, p.for_sql(sql))
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    last = dict(zip(names, rows[-1], strict=True)) if rows else None
    after = None
    if more and last is not None:
        after = (last["sort_value"], *(last[i.split(".")[1]] for i in ids))
    capped = count > request.count_cap
    items = [make(dict(zip(names, row, strict=True))) for row in rows]
    token = _tokens.search_token(request, keyset.what, after, as_of)
    return SearchPage(items, token, min(count, request.count_cap), capped, as_of)


def _page_once(
    cursor: Any,
    query: _Query,
    request: SearchRequest,
    start_after: tuple[Any, ...] | None,
    as_of: int,
    sort: str,
) -> SearchPage[TraceSummary]:
    """Count and page in one statement, for trace searches that scan spans: the matching traces
    are found once (a materialized CTE), then counted (capped) and paged. Running the count and
    the page as two statements scanned the spans twice."""
    p = query.params
    base_where = " AND ".join(query.where) or "TRUE"
    after = "TRUE"
    if start_after is not None:
        after = q.keyset("m.sort_value", request.descending, start_after, ["m.trace_id"], p)
    order = q.order_by("m.sort_value", request.descending, ["m.trace_id"])
    ctes = [
        *query.ctes,
        f"matched AS MATERIALIZED (SELECT t.trace_id, {sort} AS sort_value FROM traces t"
        f" WHERE {base_where})",
        f"counted AS (SELECT count(*) AS n FROM (SELECT 1 FROM matched"
        f" LIMIT {p.add(request.count_cap + 1)}))",
        f"page AS (SELECT m.trace_id, m.sort_value FROM matched m WHERE {after}"
        f" ORDER BY {order} LIMIT {p.add(request.limit + 1)})",
    ]
    sql = (
        f"WITH RECURSIVE {', '.join(ctes)} SELECT c.n, {SUMMARY_COLUMNS}, m.sort_value"
        " FROM counted c LEFT JOIN (page m JOIN traces t ON t.trace_id = m.trace_id"
        f" AND t.project = {p.add(request.filters.project)}) ON TRUE"
        f" ORDER BY {order}"
    )
    result = cursor.execute(sql, p.for_sql(sql))
    names = [d[0] for d in result.description]
    rows = result.fetchall()
    count = int(rows[0][0])
    rows = [row for row in rows if row[1] is not None]
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    items = [_summary(dict(zip(names[1:], row[1:], strict=True))) for row in rows]
    last = (rows[-1][-1], items[-1].trace_id) if more and items else None
    capped = count > request.count_cap
    token = _tokens.search_token(request, "traces", last, as_of)
    return SearchPage(items, token, min(count, request.count_cap), capped, as_of)


def _summary(row: dict[str, Any]) -> TraceSummary:
    row.pop("sort_value")
    return TraceSummary(**row)


def _hit(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("sort_value")
    return row
