"""Aggregates over time buckets and groups: of spans (``stats``) and of traces from their
summaries (``trace_stats``); the DuckDB store's ``store/_stats.py`` in ClickHouse's dialect.
Quantiles interpolate linearly between ranks (``quantilesExactInclusive``), as DuckDB's
``quantile_cont`` does, over the same rows: all of a cell's up to ``QUANTILE_SAMPLE``, a
hash-chosen sample of about that many beyond (the rule ``store/_stats.py`` describes; the hash
is ClickHouse's cityHash64, so the two stores sample different rows of a large cell)."""

from __future__ import annotations

from typing import Any, Final

from tracepond.model.records import StatsRequest, StatsRow
from tracepond.store._stats import (
    QUANTILE_SAMPLE,
    first_bucket_start,
    fits_int64,
    sample_cut,
)
from tracepond.store.clickhouse import _search_sql as q
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._ql import QueryCompiler, with_clause
from tracepond.store.clickhouse._search import Query, add_span_semijoins, spans_source
from tracepond.store.clickhouse._sql import run
from tracepond.store.clickhouse._window import window

GROUP_COLUMNS: Final = {
    "model": "s.model",
    "service": "s.service_name",
    "name": "s.name",
    "category": "s.category",
}
QUANTILES: Final = "0.5, 0.95, 0.99"
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
    ctes: list[str] = []
    if f.query is not None:
        compiler = QueryCompiler(p, spans_source(db), f"{db}.origins", found.sql(p, f.project))
        result = compiler.compile(f.query)
        ctes = compiler.ctes
        where.append(f"(s.trace_id, s.span_id) IN (SELECT trace_id, span_id FROM {result})")
    bucket = _bucket(request, p, "s.start_ns")
    group = (
        GROUP_COLUMNS[request.group_by] if request.group_by else "CAST(NULL, 'Nullable(String)')"
    )
    picked = (
        f"SELECT {bucket}, {group} AS g, s.status_code = 2 AS failed,"
        " s.duration_ns AS duration, cityHash64(s.trace_id, s.span_id) AS h,"
        " coalesce(s.input_tokens, 0) AS tokens_in, coalesce(s.output_tokens, 0) AS tokens_out,"
        f" s.cost AS cost FROM {db}.spans AS s FINAL WHERE {' AND '.join(where)}"
    )
    return _aggregate(client, p, ctes, picked)


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
    picked = (
        f"SELECT {bucket}, {group} AS g, t.error_count > 0 AS failed,"
        " t.end_ns - t.start_ns AS duration, cityHash64(t.trace_id) AS h,"
        " t.input_tokens AS tokens_in, t.output_tokens AS tokens_out, t.cost AS cost"
        f" FROM {source} WHERE {' AND '.join(query.where)}"
    )
    return _aggregate(client, p, query.ctes, picked)


def _aggregate(client: Any, p: Params, ctes: list[str], picked: str) -> list[StatsRow]:
    """The rows of the statement ``picked`` (columns i: the bucket's index, b: its start, g,
    failed, duration, h, tokens_in, tokens_out, cost) aggregated per (b, g) by the rule of the
    DuckDB store's ``_stats._aggregate``: a cell's quantiles hold all its durations up to
    ``QUANTILE_SAMPLE``, and a hash-chosen sample of about that many beyond."""
    large = _large_cells(client, p, with_clause(ctes), picked)
    quantiles = f"quantilesExactInclusive({QUANTILES})(r.duration)"
    if large:
        quantiles = (
            f"quantilesExactInclusiveIf({QUANTILES})(r.duration,"
            f" ({_cut(p, large)} AS cut) = 0 OR r.h < cut)"
        )
    sql = with_clause(ctes) + (
        f"SELECT r.b, r.g, count(), countIf(r.failed), {quantiles},"
        " sum(r.tokens_in), sum(r.tokens_out), sum(r.cost)"
        f" FROM ({picked}) AS r GROUP BY r.b, r.g ORDER BY r.b, r.g NULLS FIRST"
    )
    return _rows(client, sql, p)


def _large_cells(
    client: Any, p: Params, ctes: str, picked: str
) -> list[tuple[int, str | None, int]]:
    """The (bucket index, group, count) of the cells of more than ``QUANTILE_SAMPLE`` rows."""
    sql = ctes + (
        f"SELECT r.i, r.g, count() FROM ({picked}) AS r GROUP BY r.i, r.g"
        f" HAVING count() > {QUANTILE_SAMPLE}"
    )
    return [(int(i), g, int(n)) for i, g, n in run(client, sql, p)[1]]


def _cut(p: Params, large: list[tuple[int, str | None, int]]) -> str:
    """A row's hash cut: QUANTILE_SAMPLE / n of the hash range in a large cell of n rows, 0
    in a small cell. Looked up by ``transform`` on an integer number of the cell (bucket index
    times the groups, plus the group's number: NULL 1, the large cells' others from 2, any
    other group 0), because a join on (bucket, group) took most of the read's time."""
    names = sorted({g for _, g, _ in large if g is not None})
    number = {name: index + 2 for index, name in enumerate(names)}
    width = len(names) + 2
    group = "toUInt64(0)"
    if names:
        group = (
            f"transform(assumeNotNull(r.g), {p.add(names, 'Array(String)')},"
            f" {p.add(list(number.values()), 'Array(UInt64)')}, toUInt64(0))"
        )
    keys = [i * width + (1 if g is None else number[g]) for i, g, _ in large]
    cuts = [sample_cut(n) for _, _, n in large]
    return (
        f"transform(toUInt64(r.i) * {width} + if(isNull(r.g), 1, {group}),"
        f" {p.add(keys, 'Array(UInt64)')}, {p.add(cuts, 'Array(UInt64)')}, toUInt64(0))"
    )


def _bucket(request: StatsRequest, p: Params, column: str) -> str:
    """The columns i, the bucket of ``column`` counted from the first (0 over the whole range),
    and b, its start: a multiple of the bucket size since the epoch. Int128 when column - origin
    of Int64 values can pass Int64's range; Int64 otherwise: half the memory a block, which
    counts against a read's memory limit."""
    if request.bucket_ns is None:
        return f"toInt64(0) AS i, {p.add(request.since_ns)} AS b"
    first = first_bucket_start(request.since_ns, request.bucket_ns)
    size, origin = p.add(request.bucket_ns), p.add(first)
    if fits_int64(request.until_ns - first):
        return f"intDiv({column} - {origin}, {size}) AS i, {origin} + i * {size} AS b"
    return (
        f"toInt64(intDiv(toInt128({column}) - {origin}, {size})) AS i,"
        f" toInt64({origin} + toInt128(i) * {size}) AS b"
    )


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
