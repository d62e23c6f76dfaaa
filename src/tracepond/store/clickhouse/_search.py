"""Trace and span search on ClickHouse: filtered, sorted, keyset-paged, counted (the DuckDB
store's ``store/_search.py``; same pages).

Pagination is a snapshot: the first page fixes ``as_of`` (the project's newest ingest time
then) and later pages see only spans and summaries committed by then. Summaries and spans are
read with FINAL, so a span stored twice (two receivers) is matched and counted once. Span
conditions are semi-joins over the hours (the spans' sort key) and ingest window of the
candidate traces.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tracepond.model.filters import Filters
from tracepond.model.records import SPAN_HEAD_COLUMNS, SearchPage, SearchRequest, TraceSummary
from tracepond.model.spans import VIEW_COLUMNS
from tracepond.store import _tokens
from tracepond.store.clickhouse import _newest
from tracepond.store.clickhouse import _search_sql as q
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._previews import with_previews
from tracepond.store.clickhouse._ql import QueryCompiler, with_clause
from tracepond.store.clickhouse._reads import SUMMARY_SELECT, summary
from tracepond.store.clickhouse._sql import run
from tracepond.store.clickhouse._window import Window, window

HIT_COLUMNS = (
    "trace_id",
    *SPAN_HEAD_COLUMNS,
    "duration_ns",
    "status_code",
    "status_message",
    *VIEW_COLUMNS,
    "attributes_json",
)


@dataclass
class Query:
    params: Params
    ctes: list[str]
    where: list[str]
    # Conditions on span contents (semi-joins over the spans): the scan is worth running once
    # for both the page and its count.
    costly: bool = False

    def with_clause(self) -> str:
        return with_clause(self.ctes)


def watermark(client: Any, db: str, project: str) -> int:
    p = Params()
    sql = (
        f"SELECT coalesce(max(last_ingested_ns), 0) FROM {db}.traces"
        f" WHERE project = {p.add(project)}"
    )
    return int(run(client, sql, p)[1][0][0])


def spans_source(db: str) -> str:
    return f"{db}.spans FINAL"


def add_span_semijoins(
    db: str, query: Query, f: Filters, predicates: list[str], found: Window
) -> None:
    p = query.params
    for predicate in predicates:
        spans = found.sql(p, f.project, "s.")
        query.where.append(
            f"t.trace_id IN (SELECT s.trace_id FROM {db}.spans AS s FINAL"
            f" WHERE {spans} AND {predicate})"
        )
    if f.query is not None:
        compiler = QueryCompiler(p, spans_source(db), f"{db}.origins", found.sql(p, f.project))
        result = compiler.compile(f.query)
        query.ctes += compiler.ctes
        query.where.append(f"t.trace_id IN (SELECT trace_id FROM {result})")


def search_traces(client: Any, db: str, request: SearchRequest) -> SearchPage[TraceSummary]:
    f = request.filters
    position = _tokens.search_position(request, "traces")
    as_of = position.as_of if position.as_of is not None else watermark(client, db, f.project)
    query = Query(Params(), [], [])
    query.where = q.trace_conditions(f, query.params)
    only_project = len(query.where) == 1
    query.where.append(f"t.first_ingested_ns <= {query.params.add(as_of)}")
    predicates = q.trace_span_predicates(f, query.params)
    if predicates or f.query is not None:
        found = window(client, db, query.where, query.params)
        if found is None:
            return SearchPage([], None, 0, False, as_of)
        if _newest.applies(request, predicates, f.query is not None):
            candidates = _candidates(query, f, found.until(as_of), only_project)
            return _newest_page(client, db, request, candidates, predicates[0], position, as_of)
        add_span_semijoins(db, query, f, predicates, found.until(as_of))
        query.costly = True
    page = _page(
        client,
        query,
        request,
        _Keyset("traces", position.after, ["t.trace_id"]),
        as_of,
        f"{db}.traces AS t FINAL",
        SUMMARY_SELECT,
        q.TRACE_SORT[request.sort],
        _summary,
    )
    return replace(page, rows=with_previews(client, db, page.rows, f.project))


def _candidates(query: Query, f: Filters, found: Window, only_project: bool) -> _newest.Candidates:
    return _newest.Candidates(query.where, query.params, f.project, only_project, found)


def _newest_page(
    client: Any,
    db: str,
    request: SearchRequest,
    found: _newest.Candidates,
    predicate: str,
    position: _tokens.SearchPosition,
    as_of: int,
) -> SearchPage[TraceSummary]:
    cap = request.count_cap
    total = _newest.capped_count(client, db, found, predicate, cap)
    page = _newest.NewestPage(client, db, found, predicate, request, position.after)
    rows = page.rows(total)
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    after = (rows[-1].start_ns, rows[-1].trace_id) if more else None
    token = _tokens.search_token(request, "traces", after, as_of)
    rows = with_previews(client, db, rows, found.project)
    return SearchPage(rows, token, min(total, cap), total > cap, as_of)


def search_spans(client: Any, db: str, request: SearchRequest) -> SearchPage[dict[str, Any]]:
    f = request.filters
    position = _tokens.search_position(request, "spans")
    as_of = position.as_of if position.as_of is not None else watermark(client, db, f.project)
    query = Query(Params(), [], [])
    p = query.params
    trace_where = [f"t.project = {p.add(f.project)}", f"t.first_ingested_ns <= {p.add(as_of)}"]
    if f.since_ns is not None:
        trace_where.append(f"t.end_ns >= {p.add(f.since_ns)}")
    if f.until_ns is not None:
        trace_where.append(f"t.start_ns <= {p.add(f.until_ns)}")
    for column, value in (("t.session_id", f.session_id), ("t.user_id", f.user_id)):
        if value is not None:
            trace_where.append(f"{column} = {p.add(value)}")
    found = window(client, db, trace_where, p)
    if found is None:
        return SearchPage([], None, 0, False, as_of)
    found = found.until(as_of)
    query.where = [found.sql(p, f.project, "s."), *q.span_conditions(f, p)]
    if f.session_id is not None or f.user_id is not None:
        query.where.append(
            f"s.trace_id IN (SELECT t.trace_id FROM {db}.traces AS t FINAL"
            f" WHERE {' AND '.join(trace_where)})"
        )
    if f.query is not None:
        compiler = QueryCompiler(p, spans_source(db), f"{db}.origins", found.sql(p, f.project))
        result = compiler.compile(f.query)
        query.ctes += compiler.ctes
        query.where.append(f"(s.trace_id, s.span_id) IN (SELECT trace_id, span_id FROM {result})")
    columns = ", ".join(f"s.{c} AS {c}" for c in HIT_COLUMNS)
    return _page(
        client,
        query,
        request,
        _Keyset("spans", position.after, ["s.trace_id", "s.span_id"]),
        as_of,
        f"{db}.spans AS s FINAL",
        columns,
        q.SPAN_SORT[request.sort],
        _hit,
    )


@dataclass(frozen=True)
class _Keyset:
    """Which search pages (for its tokens), where the page starts, and the id columns that
    break ties of the sort value."""

    what: str
    after: tuple[Any, ...] | None
    ids: list[str]


def _page(
    client: Any,
    query: Query,
    request: SearchRequest,
    keyset: _Keyset,
    as_of: int,
    table: str,
    columns: str,
    sort: str,
    make: Any,
) -> SearchPage[Any]:
    p = query.params
    ids = keyset.ids
    after = ""
    if keyset.after is not None:
        after = q.keyset(sort, request.descending, keyset.after, ids, p)
    order = f"ORDER BY {q.order_by(sort, request.descending, ids)} LIMIT {p.add(request.limit + 1)}"
    if query.costly:
        names, rows, total = _page_counted(client, query, table, columns, sort, after, order)
    else:
        (names, rows), total = _page_rows(client, query, table, columns, sort, after, order), None
    if total is None:
        total = _count(client, query, table, request.count_cap)
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    last = dict(zip(names, rows[-1], strict=True)) if rows else None
    position = None
    if more and last is not None:
        position = (last["sort_value"], *(last[i.split(".")[1]] for i in ids))
    items = [make(dict(zip(names, row, strict=True))) for row in rows]
    token = _tokens.search_token(request, keyset.what, position, as_of)
    capped = total > request.count_cap
    return SearchPage(items, token, min(total, request.count_cap), capped, as_of)


def _page_rows(
    client: Any, query: Query, table: str, columns: str, sort: str, after: str, order: str
) -> tuple[list[str], list[tuple[Any, ...]]]:
    where = " AND ".join([*query.where, after] if after else query.where) or "true"
    sql = (
        f"{query.with_clause()}SELECT {columns}, {sort} AS sort_value FROM {table}"
        f" WHERE {where} {order}"
    )
    return run(client, sql, query.params)


def _page_counted(
    client: Any, query: Query, table: str, columns: str, sort: str, after: str, order: str
) -> tuple[list[str], list[tuple[Any, ...]], int | None]:
    """The page and the number of all matches in one statement: the span conditions' scan
    (the costly part) runs once instead of once for the count and once for the page. The
    count is of every match (the window runs before QUALIFY applies the page's position);
    None when a later page is empty (no row carries it; an empty first page: no match)."""
    where = " AND ".join(query.where) or "true"
    qualify = f" QUALIFY {after}" if after else ""
    sql = (
        f"{query.with_clause()}SELECT {columns}, {sort} AS sort_value,"
        f" count() OVER () AS match_count FROM {table} WHERE {where}{qualify} {order}"
    )
    names, rows = run(client, sql, query.params)
    if not rows:
        return names[:-1], [], None if after else 0
    return names[:-1], [row[:-1] for row in rows], int(rows[0][-1])


def _count(client: Any, query: Query, table: str, cap: int) -> int:
    p = query.params
    where = " AND ".join(query.where) or "true"
    sql = (
        f"{query.with_clause()}SELECT count() FROM (SELECT 1 FROM {table} WHERE {where}"
        f" LIMIT {p.add(cap + 1)})"
    )
    return int(run(client, sql, p)[1][0][0])


def _summary(row: dict[str, Any]) -> TraceSummary:
    row.pop("sort_value")
    return summary(tuple(row.values()))


def _hit(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("sort_value")
    return row
