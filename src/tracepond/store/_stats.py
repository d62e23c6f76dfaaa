"""Aggregates over time buckets and groups (the web view's charts): of spans (``stats``), and of
traces from their summaries (``trace_stats``).

Latency quantiles in bounded memory (the same rule on the ClickHouse store): an exact quantile
holds every duration of its (bucket, group) cell, so one large cell could exhaust any memory
limit. A cell of at most ``QUANTILE_SAMPLE`` rows gets the exact interpolated quantiles of all
its durations; a larger cell of n rows, those of the rows whose hash of their identity (span:
trace and span id; trace: trace id) falls in the lowest QUANTILE_SAMPLE / n of the hash range,
a uniform sample of about QUANTILE_SAMPLE rows that is the same at every run. A first statement
counts the cells and lists the large ones; the second aggregates, sampling only those.
"""

from __future__ import annotations

from typing import Any, Final

from tracepond.model.records import StatsRequest, StatsRow
from tracepond.store import _search_sql as q
from tracepond.store._params import Params
from tracepond.store._ql_sql import QueryCompiler
from tracepond.store._search import _add_span_semijoins, _Query, _window, _window_sql

QUANTILES: Final = "[0.5, 0.95, 0.99]"
# The most rows a cell's quantiles are computed from exactly. A larger cell's sample puts the
# quantile's rank off by sqrt(q(1-q)/QUANTILE_SAMPLE) (one standard deviation): 0.5% at p50,
# 0.22% at p95, 0.1% at p99; and a cell holds ~80 KB of durations at most.
QUANTILE_SAMPLE: Final = 10_000
GROUP_COLUMNS: Final = {
    "model": "s.model",
    "service": "s.service_name",
    "name": "s.name",
    "category": "s.category",
}
# Trace level: the root's service and name; a trace counts once under every model its leaf
# LLM calls used (``traces.models``), and under null when it used none. An unnest in the select
# list: DuckDB plans a lateral unnest as a join that hashes every trace row, which is several
# times slower and takes memory in proportion to the traces.
TRACE_GROUP_COLUMNS: Final = {
    "model": "unnest(CASE WHEN len(t.models) = 0 THEN [NULL::VARCHAR] ELSE t.models END)",
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
    ctes: list[str] = []
    if f.query is not None:
        compiler = QueryCompiler(p, _window_sql(window, p, f.project))
        result = compiler.compile(f.query)
        ctes = compiler.ctes
        where.append(
            f"EXISTS (SELECT 1 FROM {result} r"
            " WHERE r.trace_id = s.trace_id AND r.span_id = s.span_id)"
        )
    bucket = _bucket(request, p, "s.start_ns")
    group = GROUP_COLUMNS[request.group_by] if request.group_by else "NULL"
    picked = (
        f"SELECT {bucket} AS b, {group} AS g, s.status_code = 2 AS failed,"
        " s.duration_ns AS duration, hash(s.trace_id, s.span_id) AS h,"
        " s.input_tokens AS tokens_in, s.output_tokens AS tokens_out, s.cost"
        f" FROM spans s WHERE {' AND '.join(where)}"
    )
    return _aggregate(cursor, p, ctes, picked)


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
    bucket = _bucket(request, p, "t.start_ns")
    group = TRACE_GROUP_COLUMNS[request.group_by] if request.group_by else "NULL"
    picked = (
        f"SELECT {bucket} AS b, {group} AS g, t.error_count > 0 AS failed,"
        " t.end_ns - t.start_ns AS duration, hash(t.trace_id) AS h,"
        " t.input_tokens AS tokens_in, t.output_tokens AS tokens_out, t.cost"
        f" FROM traces t WHERE {' AND '.join(query.where)}"
    )
    if request.group_by == "model" and f.model is not None:
        # Only the asked model's group, not the other models of its traces.
        picked = f"SELECT * FROM ({picked}) WHERE g = {p.add(f.model)}"
    return _aggregate(cursor, p, query.ctes, picked)


def _aggregate(cursor: Any, p: Params, ctes: list[str], picked: str) -> list[StatsRow]:
    """The rows of the statement ``picked`` (columns b: bucket, g: group, failed, duration, h:
    the hash of the row's identity, tokens_in, tokens_out, cost) aggregated per (b, g), the
    quantiles by the module's rule. Rows written between the two statements can make a cell
    the first did not list larger than QUANTILE_SAMPLE: it is aggregated exactly, holding only
    those rows more."""
    with_clause = f"WITH RECURSIVE {', '.join(ctes)} " if ctes else ""
    large = _large_cells(cursor, p, with_clause, picked)
    quantiles = f"quantile_cont(r.duration, {QUANTILES})"
    join = ""
    if large:
        buckets, groups, cuts = zip(*((b, g, sample_cut(n)) for b, g, n in large), strict=True)
        join = (
            f" LEFT JOIN (SELECT unnest({p.add(list(buckets))}::BIGINT[]) AS b,"
            f" unnest({p.add(list(groups))}::VARCHAR[]) AS g,"
            f" unnest({p.add(list(cuts))}::UBIGINT[]) AS cut) large"
            " ON large.b = r.b AND large.g IS NOT DISTINCT FROM r.g"
        )
        quantiles += " FILTER (large.cut IS NULL OR r.h < large.cut)"
    sql = with_clause + (
        f"SELECT r.b, r.g, count(*), count(*) FILTER (r.failed), {quantiles},"
        " coalesce(sum(r.tokens_in), 0), coalesce(sum(r.tokens_out), 0), sum(r.cost)"
        f" FROM ({picked}) r{join} GROUP BY r.b, r.g ORDER BY r.b, r.g NULLS FIRST"
    )
    return _rows(cursor, sql, p)


def _large_cells(
    cursor: Any, p: Params, with_clause: str, picked: str
) -> list[tuple[int, str | None, int]]:
    """The (bucket, group, count) of the cells of more than ``QUANTILE_SAMPLE`` rows."""
    sql = with_clause + (
        f"SELECT r.b, r.g, count(*) FROM ({picked}) r GROUP BY r.b, r.g"
        f" HAVING count(*) > {QUANTILE_SAMPLE}"
    )
    rows = cursor.execute(sql, p.for_sql(sql)).fetchall()
    return [(int(b), g, int(n)) for b, g, n in rows]


def sample_cut(rows: int) -> int:
    """The hash below which a row of a large cell of ``rows`` rows is in its sample: the
    lowest QUANTILE_SAMPLE / rows of the 64-bit hash range."""
    return QUANTILE_SAMPLE * 2**64 // rows


def _bucket(request: StatsRequest, p: Params, column: str) -> str:
    """The start of the bucket of ``column``: a multiple of the bucket size since the epoch
    (UTC), so that 1m buckets start at :00, 1h at the hour and 1d at midnight UTC whatever the
    range. Every row starts at or after the first bucket's start, so the division is of a
    non-negative number (DuckDB's // truncates toward zero)."""
    if request.bucket_ns is None:
        return p.add(request.since_ns)
    first = first_bucket_start(request.since_ns, request.bucket_ns)
    size, origin = p.add(request.bucket_ns), p.add(first)
    if fits_int64(request.until_ns - first):
        # Rows start before until: column - origin is within BIGINT, whose division is several
        # times faster than HUGEINT's.
        return f"({origin} + ({column} - {origin}) // {size} * {size})"
    # HUGEINT: column - origin of int64 values can exceed int64 (a range reaching 1677).
    return f"({origin} + (({column}::HUGEINT - {origin}) // {size}) * {size})::BIGINT"


def fits_int64(value: int) -> bool:
    return -(2**63) <= value < 2**63


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
