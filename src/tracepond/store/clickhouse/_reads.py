"""Reads of one trace or span, trace listing and counts.

A trace read looks the summary up (``traces`` FINAL, by its sort key) and reads the spans within
the hours the summary spans (the spans table's sort key starts with the project and the start
hour, so the primary index narrows the read to those hours before the trace id) and committed
by the summary's newest ingest time, keeping one copy of each span: the one of the highest
``version`` (the first stored copy, or the newest reindexed one: store/clickhouse/_reindex.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from tracepond.model.records import (
    TREE_COLUMNS,
    PageToken,
    SpanColumns,
    SpanRecord,
    TracePage,
    TraceSummary,
)
from tracepond.model.skeleton import COLUMNS as SKELETON_COLUMNS
from tracepond.model.skeleton import SpanColumns as SkeletonColumns
from tracepond.store import _tokens
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._sql import records, run, start_range

SUMMARY_FIELDS: Final = (
    "trace_id",
    "root_span_id",
    "root_name",
    "service_name",
    "start_ns",
    "end_ns",
    "span_count",
    "error_count",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "models",
    "session_id",
    "user_id",
    "llm_count",
    "tool_count",
    "retriever_count",
)
# A read of one trace's few granules: one thread, and no PREWHERE pass (which reads the key
# columns first to filter the rest: for a granule or two, a second pass for nothing).
POINT_READ: Final = {"max_threads": 1, "optimize_move_to_prewhere": 0}
# Where a trace's spans are, after its summary fields: start and end, first and last ingest.
_WINDOW_FIELDS: Final = ("first_ingested_ns", "last_ingested_ns")
_WINDOW_POSITIONS: Final = (
    SUMMARY_FIELDS.index("start_ns") + 1,
    SUMMARY_FIELDS.index("end_ns") + 1,
    len(SUMMARY_FIELDS) + 1,
    len(SUMMARY_FIELDS) + 2,
)
SUMMARY_SELECT: Final = ", ".join(f"t.{name} AS {name}" for name in SUMMARY_FIELDS)
# Every stored column of a span as a record holds it (its origin is added as JSON).
RECORD_COLUMNS: Final = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "duration_ns",
    "status_code",
    "status_message",
    "trace_state",
    "flags",
    "service_name",
    "scope_name",
    "scope_version",
    "attributes_json",
    "events_json",
    "links_json",
    "dropped_attributes_count",
    "dropped_events_count",
    "dropped_links_count",
    "truncated_json",
    "view_json",
    "category",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "cost_source",
    "cost_price",
    "session_id",
    "user_id",
    "document_count",
    "tool_name",
    "error_type",
    "project",
)


def summary(row: tuple[Any, ...]) -> TraceSummary:
    """A TraceSummary from SUMMARY_FIELDS values (ClickHouse's unsigned counts as int)."""
    values = list(row)
    values[6], values[7] = int(values[6]), int(values[7])
    values[12] = list(values[12])
    return TraceSummary(*values)


class Located:
    """A stored trace's summary and where its spans are: hours and ingest window."""

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.summary = summary(row[: len(SUMMARY_FIELDS)])
        self.first_ingested, self.last_ingested = int(row[-2]), int(row[-1])


def locate(client: Any, db: str, trace_id: bytes, project: str) -> Located | None:
    p = Params()
    _, rows = run(
        client,
        f"SELECT {SUMMARY_SELECT}, t.first_ingested_ns, t.last_ingested_ns FROM {db}.traces t"
        f" FINAL WHERE t.project = {p.add(project)} AND t.trace_id = {p.add(trace_id)}",
        p,
    )
    return Located(rows[0]) if rows else None


def _in_trace(p: Params, found: Located, trace_id: bytes, project: str, last: int) -> str:
    s = found.summary
    return (
        f"project = {p.add(project)}"
        f" AND {start_range('', p.add(s.start_ns), p.add(s.end_ns))}"
        f" AND trace_id = {p.add(trace_id)}"
        f" AND ingested_ns BETWEEN {p.add(found.first_ingested)} AND {p.add(last)}"
    )


def span_rows(
    client: Any,
    db: str,
    found: Located,
    trace_id: bytes,
    project: str,
    columns: tuple[str, ...],
    span_id: bytes | None = None,
    last: int | None = None,
) -> list[SpanRecord]:
    """The trace's spans (``columns``), one copy of each, by (start, span id)."""
    p = Params()
    where = _in_trace(p, found, trace_id, project, found.last_ingested if last is None else last)
    if span_id is not None:
        where += f" AND span_id = {p.add(span_id)}"
    select = ", ".join(dict.fromkeys((*columns, "start_ns", "span_id")))
    sql = (
        f"SELECT {select} FROM {db}.spans WHERE {where}"
        " ORDER BY start_ns, span_id, version DESC LIMIT 1 BY span_id"
    )
    rows = records(client, sql, p)
    wanted = set(columns)
    return [{k: v for k, v in row.items() if k in wanted} for row in rows]


class _OriginCache:
    """Origins already read, by id. An origin's id is a hash of its resource and scope JSON
    (ingest/decode.py, ``origin_id``), so an id names the same texts in every database and for
    ever: nothing cached can go stale. Bounded: emptied when full (a few origins per service)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.texts: dict[int, tuple[str, str]] = {}

    def missing(self, ids: list[int]) -> list[int]:
        return [i for i in ids if i not in self.texts]

    def add(self, found: dict[int, tuple[str, str]]) -> None:
        if len(self.texts) + len(found) > self.limit:
            self.texts = {}
        self.texts.update(found)

    def get(self, origin_id: int | None) -> tuple[str | None, str | None]:
        texts = self.texts.get(origin_id) if origin_id is not None else None
        return texts if texts is not None else (None, None)


_ORIGINS: Final = _OriginCache(limit=10_000)


def with_origins(client: Any, db: str, spans: list[dict[str, Any]]) -> list[SpanRecord]:
    """Records with their origin's resource and scope JSON in place of ``origin_id``."""
    ids = sorted({s["origin_id"] for s in spans if s.get("origin_id") is not None})
    missing = _ORIGINS.missing(ids)
    found: dict[int, tuple[str, str]] = {}
    if missing:
        p = Params()
        _, rows = run(
            client,
            f"SELECT id, any(resource_json), any(scope_json) FROM {db}.origins"
            f" WHERE id IN {p.add(missing)} GROUP BY id",
            p,
        )
        found = {row[0]: (row[1], row[2]) for row in rows}
        _ORIGINS.add(found)
    out = []
    for span in spans:
        origin_id = span.pop("origin_id")
        texts = found.get(origin_id) if origin_id is not None else None
        span["resource_json"], span["scope_json"] = texts or _ORIGINS.get(origin_id)
        out.append(span)
    return out


def trace(
    client: Any, db: str, trace_id: bytes, columns: SpanColumns, project: str
) -> tuple[TraceSummary, list[SpanRecord]] | None:
    """One statement: the summary (a scalar subquery, so that its hours and ingest window are
    constants the primary index can use) and the spans within them, each row carrying it."""
    p = Params()
    fields = ", ".join(f"t.{name}" for name in (*SUMMARY_FIELDS, *_WINDOW_FIELDS))
    found = (
        f"(SELECT tuple({fields}) FROM {db}.traces t FINAL"
        f" WHERE t.project = {p.add(project)} AND t.trace_id = {p.add(trace_id)})"
    )
    start, end, first, last = (f"tupleElement(found, {i})" for i in _WINDOW_POSITIONS)
    wanted = TREE_COLUMNS if columns == "tree" else (*RECORD_COLUMNS, "origin_id")
    select = ", ".join(dict.fromkeys((*wanted, "start_ns", "span_id", "version")))
    sql = (
        f"WITH {found} AS found SELECT found AS _found, {select} FROM {db}.spans"
        f" WHERE project = {p.add(project)} AND {start_range('', start, end)}"
        f" AND trace_id = {p.add(trace_id)} AND ingested_ns BETWEEN {first} AND {last}"
    )
    rows = records(client, sql, p, POINT_READ)
    if not rows:
        return None
    located = Located(tuple(rows[0]["_found"]))
    keep = set(wanted)
    spans = [{k: v for k, v in row.items() if k in keep} for row in one_copy_each(rows)]
    return located.summary, spans if columns == "tree" else with_origins(client, db, spans)


def one_copy_each(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per span id, the highest ``version`` (as ``LIMIT 1 BY`` after ``ORDER BY
    version DESC`` would keep), by (start, span id): a trace's few rows are sorted here rather
    than by the statement, which costs the point read more than the sort costs Python."""
    kept: dict[bytes, dict[str, Any]] = {}
    for row in rows:
        seen = kept.get(row["span_id"])
        if seen is None or row["version"] > seen["version"]:
            kept[row["span_id"]] = row
    return sorted(kept.values(), key=lambda row: (row["start_ns"], row["span_id"]))


def traces(
    client: Any, db: str, trace_ids: Sequence[bytes], columns: SpanColumns, project: str
) -> list[tuple[TraceSummary, list[SpanRecord]]]:
    """Several traces: one read of their summaries, one of their spans (within the union of
    their hours and ingest windows), and with ``columns="all"`` one of their origins."""
    wanted = list(dict.fromkeys(trace_ids))
    if not wanted:
        return []
    p = Params()
    _, rows = run(
        client,
        f"SELECT {SUMMARY_SELECT}, t.first_ingested_ns, t.last_ingested_ns FROM {db}.traces t"
        f" FINAL WHERE t.project = {p.add(project)} AND t.trace_id IN {p.add(wanted)}",
        p,
    )
    found = {row[0]: Located(row) for row in rows}
    if not found:
        return []
    spans = _spans_of(client, db, list(found.values()), columns, project)
    by_trace: dict[bytes, list[SpanRecord]] = {trace_id: [] for trace_id in found}
    for record in spans:
        trace_id = record.pop("trace_id") if columns == "tree" else record["trace_id"]
        by_trace[trace_id].append(record)
    return [(found[t].summary, by_trace[t]) for t in wanted if t in found]


def _spans_of(
    client: Any, db: str, located: list[Located], columns: SpanColumns, project: str
) -> list[SpanRecord]:
    p = Params()
    low = min(found.summary.start_ns for found in located)
    high = max(found.summary.end_ns for found in located)
    first = min(found.first_ingested for found in located)
    last = max(found.last_ingested for found in located)
    ids = [found.summary.trace_id for found in located]
    wanted = ("trace_id", *TREE_COLUMNS) if columns == "tree" else (*RECORD_COLUMNS, "origin_id")
    select = ", ".join(dict.fromkeys((*wanted, "start_ns", "span_id")))
    sql = (
        f"SELECT {select} FROM {db}.spans WHERE project = {p.add(project)}"
        f" AND {start_range('', p.add(low), p.add(high))} AND trace_id IN {p.add(ids)}"
        f" AND ingested_ns BETWEEN {p.add(first)} AND {p.add(last)}"
        " ORDER BY trace_id, start_ns, span_id, version DESC LIMIT 1 BY trace_id, span_id"
    )
    keep = set(wanted)
    rows = [{k: v for k, v in row.items() if k in keep} for row in records(client, sql, p)]
    return rows if columns == "tree" else with_origins(client, db, rows)


def span(client: Any, db: str, trace_id: bytes, span_id: bytes, project: str) -> SpanRecord | None:
    found = locate(client, db, trace_id, project)
    if found is None:
        return None
    columns = (*RECORD_COLUMNS, "origin_id")
    rows = span_rows(client, db, found, trace_id, project, columns, span_id=span_id)
    return with_origins(client, db, rows)[0] if rows else None


def skeleton_rows(
    client: Any, db: str, trace_id: bytes, as_of: int | None, project: str
) -> list[SpanRecord]:
    found = locate(client, db, trace_id, project)
    if found is None:
        return []
    last = found.last_ingested if as_of is None else min(found.last_ingested, as_of)
    rows = span_rows(client, db, found, trace_id, project, SKELETON_COLUMNS, last=last)
    return SkeletonColumns({name: [row[name] for row in rows] for name in SKELETON_COLUMNS})


def list_traces(
    client: Any, db: str, limit: int, after: PageToken | None, project: str
) -> TracePage:
    p = Params()
    sql = f"SELECT {SUMMARY_SELECT} FROM {db}.traces t FINAL WHERE t.project = {p.add(project)}"
    if after is not None:
        position = _tokens.trace_list_position(after)
        start, trace_id = p.add(position[0]), p.add(position[1])
        sql += f" AND (t.start_ns < {start} OR (t.start_ns = {start} AND t.trace_id < {trace_id}))"
    sql += f" ORDER BY t.start_ns DESC, t.trace_id DESC LIMIT {p.add(limit + 1)}"
    _, rows = run(client, sql, p)
    traces = [summary(row) for row in rows[:limit]]
    more = len(rows) > limit
    last = traces[-1] if more and traces else None
    token = None if last is None else _tokens.trace_list_token(last.start_ns, last.trace_id)
    return TracePage(traces=traces, next_cursor=token)


def counts(client: Any, db: str, project: str | None) -> tuple[int, int]:
    p = Params()
    where = "" if project is None else f" WHERE project = {p.add(project)}"
    _, rows = run(client, f"SELECT sum(span_count), count() FROM {db}.traces FINAL{where}", p)
    return int(rows[0][0] or 0), int(rows[0][1] or 0)
