"""Aggregates over time buckets and groups (the web view's charts): of spans (``stats``), and of
traces from their summaries (``trace_stats``)."""

from __future__ import annotations

from typing import Any, Final

from tracepond.model.records import StatsRequest, StatsRow
from tracepond.store import _search_sql as q
from tracepond.store._params import Params
from tracepond.store._ql_sql import QueryCompiler
from tracepond.store._search import _add_span_semijoins, _Query, _window, _window_sql

GROUP_COLUMNS: Final = {
    "model": "s.model",
    "service": "s.service_name",
    "name": "s.name",
    "category": "s.category",
}
# Trace level: the root's service and name; a trace counts once under every model its leaf
# LLM calls used (``traces.models``), and under null when it used none.
TRACE_GROUP_COLUMNS: Final = {
    "model": "m.model",
    "service": "t.service_name",
    "name": "t.root_name",
}


def stats(cursor: Any, request: StatsRequest) -> list[StatsRow]:
    p = Params()
    # Traces overlapping the range bound the ingest window, so only their row groups are read.
    overlap = [
        f"t.project = {p.add(request.filters.project)}",
        f"t.end_ns >= {p.add(request.since_ns)}",
        f"t.start_ns <= {p.add(request.until_ns)}",
    ]
    window = _window(cursor, overlap, p)
    if window is None:
        return []
    where = [f"s.ingested_ns BETWEEN {p.add(window[0])} AND {p.add(window[1])}"]
    where += [f"s.start_ns >= {p.add(request.since_ns)}", f"s.start_ns < {p.add(request.until_ns)}"]
    where += q.span_conditions(request.filters, p)
    f = request.filters
    # Like span search: session and user are the trace's; q keeps the spans it selects.
    trace_where = list(overlap)
    for column, value in (("t.session_id", f.session_id), ("t.user_id", f.user_id)):
        if value is not None:
            trace_where.append(f"{column} = {p.add(value)}")
    if len(trace_where) > len(overlap):
        where.append(
            f"s.trace_id IN (SELECT t.trace_id FROM traces t WHERE {' AND '.join(trace_where)})"
        )
    ctes = ""
    if f.query is not None:
        compiler = QueryCompiler(p, _window_sql(window, p, f.project))
        result = compiler.compile(f.query)
        ctes = "WITH RECURSIVE " + ", ".join(compiler.ctes) + " " if compiler.ctes else ""
        where.append(
            f"EXISTS (SELECT 1 FROM {result} r"
            " WHERE r.trace_id = s.trace_id AND r.span_id = s.span_id)"
        )
    bucket = _bucket(request, p, "s.start_ns")
    group = GROUP_COLUMNS[request.group_by] if request.group_by else "NULL"
    sql = ctes + (
        f"SELECT {bucket} AS b, {group} AS g, count(*), count(*) FILTER (s.status_code = 2),"
        " quantile_cont(s.duration_ns, [0.5, 0.95, 0.99]),"
        " coalesce(sum(s.input_tokens), 0), coalesce(sum(s.output_tokens), 0), sum(s.cost)"
        f" FROM spans s WHERE {' AND '.join(where)} GROUP BY b, g ORDER BY b, g NULLS FIRST"
    )
    return _rows(cursor, sql, p)


def trace_stats(cursor: Any, request: StatsRequest) -> list[StatsRow]:
    """Trace aggregates from the ``traces`` summaries, over traces starting in [since, until):
    traces, traces with an error span, trace duration quantiles, and the traces' token and cost
    totals (leaf LLM calls only, as the summaries keep them). Filters mean what they mean for
    trace search, so a bucket counts the traces ``/api/traces`` finds for it."""
    f = request.filters
    query = _Query(Params(), [], [])
    p = query.params
    query.where = [
        f"t.start_ns >= {p.add(request.since_ns)}",
        f"t.start_ns < {p.add(request.until_ns)}",
        *q.trace_conditions(f, p),
    ]
    span_predicates = q.trace_span_predicates(f, p)
    if span_predicates or f.query is not None:
        window = _window(cursor, query.where, p)
        if window is None:
            return []
        _add_span_semijoins(query, f, span_predicates, window)
    source = "traces t"
    if request.group_by == "model":
        source += (
            ", unnest(CASE WHEN len(t.models) = 0 THEN [NULL::VARCHAR] ELSE t.models END)"
            " AS m(model)"
        )
        if f.model is not None:  # only the asked model's group, not the others of its traces
            query.where.append(f"m.model = {p.add(f.model)}")
    bucket = _bucket(request, p, "t.start_ns")
    group = TRACE_GROUP_COLUMNS[request.group_by] if request.group_by else "NULL"
    sql = query.with_clause() + (
        f"SELECT {bucket} AS b, {group} AS g, count(*), count(*) FILTER (t.error_count > 0),"
        " quantile_cont(t.end_ns - t.start_ns, [0.5, 0.95, 0.99]),"
        " coalesce(sum(t.input_tokens), 0), coalesce(sum(t.output_tokens), 0), sum(t.cost)"
        f" FROM {source} WHERE {' AND '.join(query.where)}"
        " GROUP BY b, g ORDER BY b, g NULLS FIRST"
    )
    return _rows(cursor, sql, p)


def _bucket(request: StatsRequest, p: Params, column: str) -> str:
    """The start of the bucket of ``column``: a multiple of the bucket size since the epoch
    (UTC), so that 1m buckets start at :00, 1h at the hour and 1d at midnight UTC whatever the
    range. Every row starts at or after the first bucket's start, so the division is of a
    non-negative number (DuckDB's // truncates toward zero)."""
    if request.bucket_ns is None:
        return p.add(request.since_ns)
    first = first_bucket_start(request.since_ns, request.bucket_ns)
    size, origin = p.add(request.bucket_ns), p.add(first)
    # HUGEINT: column - origin of int64 values can exceed int64 (a range reaching 1677).
    return f"({origin} + (({column}::HUGEINT - {origin}) // {size}) * {size})::BIGINT"


def first_bucket_start(since_ns: int, bucket_ns: int) -> int:
    """The start of the bucket holding ``since_ns``: the multiple of the bucket size at or
    before it (Python's // floors, also before 1970), kept within int64."""
    return max(since_ns // bucket_ns * bucket_ns, -(2**63))


def _rows(cursor: Any, sql: str, p: Params) -> list[StatsRow]:
    out = []
    for b, g, count, errors, quantiles, tokens_in, tokens_out, cost in cursor.execute(
        sql, p.for_sql(sql)
    ).fetchall():
        p50, p95, p99 = quantiles
        out.append(
            StatsRow(int(b), g, count, errors, p50, p95, p99, int(tokens_in), int(tokens_out), cost)
        )
    return out
