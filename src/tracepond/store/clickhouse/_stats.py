"""Aggregates over time buckets and groups: of spans (``stats``) and of traces from their
summaries (``trace_stats``); the DuckDB store's ``store/_stats.py`` in ClickHouse's dialect.
Quantiles interpolate linearly between ranks (``quantilesExactInclusive``), as DuckDB's
``quantile_cont`` does."""

from __future__ import annotations

from typing import Any, Final

from tracepond.model.records import StatsRequest, StatsRow
from tracepond.store._stats import first_bucket_start
from tracepond.store.clickhouse import _search_sql as q
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._ql import QueryCompiler, with_clause
from tracepond.store.clickhouse._search import Query, add_span_semijoins, spans_source, window
from tracepond.store.clickhouse._sql import run

GROUP_COLUMNS: Final = {
    "model": "s.model",
    "service": "s.service_name",
    "name": "s.name",
    "category": "s.category",
}
TRACE_GROUP_COLUMNS: Final = {
    "model": "m",
    "service": "t.service_name",
    "name": "t.root_name",
}


def stats(client: Any, db: str, request: StatsRequest) -> list[StatsRow]:
    p = Params()
    f = request.filters
    overlap = [
        f"t.project = {p.add(f.project)}",
        f"t.end_ns >= {p.add(request.since_ns)}",
        f"t.start_ns <= {p.add(request.until_ns)}",
    ]
    found = window(client, db, overlap, p)
    if found is None:
        return []
    where = [found.sql(p, f.project, "s.")]
    where += [f"s.start_ns >= {p.add(request.since_ns)}", f"s.start_ns < {p.add(request.until_ns)}"]
    where += q.span_conditions(f, p)
    trace_where = list(overlap)
    for column, value in (("t.session_id", f.session_id), ("t.user_id", f.user_id)):
        if value is not None:
            trace_where.append(f"{column} = {p.add(value)}")
    if len(trace_where) > len(overlap):
        where.append(
            f"s.trace_id IN (SELECT t.trace_id FROM {db}.traces AS t FINAL"
            f" WHERE {' AND '.join(trace_where)})"
        )
    ctes = ""
    if f.query is not None:
        compiler = QueryCompiler(p, spans_source(db), f"{db}.origins", found.sql(p, f.project))
        result = compiler.compile(f.query)
        ctes = with_clause(compiler.ctes)
        where.append(f"(s.trace_id, s.span_id) IN (SELECT trace_id, span_id FROM {result})")
    bucket = _bucket(request, p, "s.start_ns")
    group = (
        GROUP_COLUMNS[request.group_by] if request.group_by else "CAST(NULL, 'Nullable(String)')"
    )
    sql = ctes + (
        f"SELECT {bucket} AS b, {group} AS g, count(), countIf(s.status_code = 2),"
        " quantilesExactInclusive(0.5, 0.95, 0.99)(s.duration_ns),"
        " sum(coalesce(s.input_tokens, 0)), sum(coalesce(s.output_tokens, 0)), sum(s.cost)"
        f" FROM {db}.spans AS s FINAL WHERE {' AND '.join(where)}"
        " GROUP BY b, g ORDER BY b, g NULLS FIRST"
    )
    return _rows(client, sql, p)


def trace_stats(client: Any, db: str, request: StatsRequest) -> list[StatsRow]:
    f = request.filters
    query = Query(Params(), [], [])
    p = query.params
    query.where = [
        f"t.start_ns >= {p.add(request.since_ns)}",
        f"t.start_ns < {p.add(request.until_ns)}",
        *q.trace_conditions(f, p),
    ]
    predicates = q.trace_span_predicates(f, p)
    if predicates or f.query is not None:
        found = window(client, db, query.where, p)
        if found is None:
            return []
        add_span_semijoins(db, query, f, predicates, found)
    source = f"{db}.traces AS t FINAL"
    if request.group_by == "model":
        # A trace counts once under every model of its summary, under NULL when it has none.
        source += (
            " ARRAY JOIN if(empty(t.models), [CAST(NULL, 'Nullable(String)')],"
            " CAST(t.models, 'Array(Nullable(String))')) AS m"
        )
        if f.model is not None:
            query.where.append(f"m = {p.add(f.model)}")
    bucket = _bucket(request, p, "t.start_ns")
    group = (
        TRACE_GROUP_COLUMNS[request.group_by]
        if request.group_by
        else "CAST(NULL, 'Nullable(String)')"
    )
    sql = query.with_clause() + (
        f"SELECT {bucket} AS b, {group} AS g, count(), countIf(t.error_count > 0),"
        " quantilesExactInclusive(0.5, 0.95, 0.99)(t.end_ns - t.start_ns),"
        " sum(t.input_tokens), sum(t.output_tokens), sum(t.cost)"
        f" FROM {source} WHERE {' AND '.join(query.where)}"
        " GROUP BY b, g ORDER BY b, g NULLS FIRST"
    )
    return _rows(client, sql, p)


def _bucket(request: StatsRequest, p: Params, column: str) -> str:
    """The start of the bucket of ``column``: a multiple of the bucket size since the epoch
    (Int128: column - origin of Int64 values can pass Int64's range)."""
    if request.bucket_ns is None:
        return p.add(request.since_ns)
    first = first_bucket_start(request.since_ns, request.bucket_ns)
    size, origin = p.add(request.bucket_ns), p.add(first)
    return f"toInt64({origin} + intDiv(toInt128({column}) - {origin}, {size}) * {size})"


def _rows(client: Any, sql: str, p: Params) -> list[StatsRow]:
    out = []
    for b, g, count, errors, quantiles, tokens_in, tokens_out, cost in run(client, sql, p)[1]:
        p50, p95, p99 = quantiles
        out.append(
            StatsRow(
                int(b),
                g,
                int(count),
                int(errors),
                p50,
                p95,
                p99,
                int(tokens_in),
                int(tokens_out),
                cost,
            )
        )
    return out
