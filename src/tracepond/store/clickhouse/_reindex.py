"""Reindexing on ClickHouse (``tracepond reindex``): walking every span and trace by key, and
new derived columns for spans by inserting new versions of their rows.

Nothing is updated in place (no mutation): a span's new row carries the derived columns and a
``version`` one above the row it replaces, so ReplacingMergeTree, FINAL and the reads that keep
the highest version of a span (store/clickhouse/_reads.py) all return it. A receiver storing a
copy of the same span meanwhile stores an older version (versions fall with ingest time), which
changes nothing; no row is read, changed and written back where a concurrent write could be lost.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import Any, Final

from tracepond.model.records import RawSpan, SpanKey
from tracepond.model.spans import DERIVED_COLUMNS
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._reads import RECORD_COLUMNS
from tracepond.store.clickhouse._sql import run

# Every column a span row is inserted with (start_hour is computed by its DEFAULT).
STORED_COLUMNS: Final = (*RECORD_COLUMNS, "origin_id", "ingested_ns", "version")
_RAW: Final = (
    "project, trace_id, span_id, name, status_code, status_message, attributes_json,"
    " events_json, start_ns"
)
# The spans table's sort key, start hour as a number (a keyset position).
_SPAN_KEY: Final = "(project, toUInt32(start_hour), trace_id, span_id)"


def raw_span_chunks(client: Any, db: str, size: int) -> Iterator[list[RawSpan]]:
    """Every span once (FINAL), in sort-key order, keyset-paged: no result set stays open."""
    after: tuple[Any, ...] | None = None
    while True:
        p = Params()
        where = ""
        if after is not None:
            project, hour, trace_id, span_id = after
            where = (
                f" WHERE {_SPAN_KEY} > ({p.add(project)}, {p.add(hour, 'UInt32')},"
                f" {p.add(trace_id)}, {p.add(span_id)})"
            )
        sql = (
            f"SELECT {_RAW}, toUInt32(start_hour) FROM {db}.spans FINAL{where}"
            f" ORDER BY {_SPAN_KEY} LIMIT {p.add(size)}"
        )
        rows = run(client, sql, p)[1]
        if not rows:
            return
        yield [RawSpan(SpanKey(*row[:3]), *row[3:9]) for row in rows]
        last = rows[-1]
        after = (last[0], last[9], last[1], last[2])


def replace_view_columns(
    client: Any,
    db: str,
    spans: Sequence[SpanKey],
    columns: dict[str, list[object]],
    insert_settings: dict[str, Any],
) -> None:
    """Insert each span's current row again with ``columns`` in place of its derived columns
    and its version raised by one (one insert: atomic on one node)."""
    new_values = {
        key: {name: columns[name][i] for name in DERIVED_COLUMNS} for i, key in enumerate(spans)
    }
    rows = []
    for key, row in _current_rows(client, db, list(new_values)).items():
        record = dict(zip(STORED_COLUMNS, row, strict=True))
        record.update(new_values[key])
        record["version"] += 1
        rows.append([record[name] for name in STORED_COLUMNS])
    if rows:
        client.insert(
            f"{db}.spans", rows, column_names=list(STORED_COLUMNS), settings=insert_settings
        )


def _current_rows(client: Any, db: str, keys: list[SpanKey]) -> dict[SpanKey, tuple[Any, ...]]:
    """The row of the highest version of each of these spans (those stored)."""
    wanted = set(keys)
    found: dict[SpanKey, tuple[Any, ...]] = {}
    by_project = itertools.groupby(sorted(keys, key=lambda k: k.project), lambda k: k.project)
    for project, group in by_project:
        members = list(group)
        p = Params()
        sql = (
            f"SELECT {', '.join(STORED_COLUMNS)} FROM {db}.spans"
            f" WHERE project = {p.add(project)}"
            f" AND trace_id IN {p.add(list({k.trace_id for k in members}))}"
            f" AND span_id IN {p.add(list({k.span_id for k in members}))}"
            " ORDER BY version DESC LIMIT 1 BY trace_id, span_id"
        )
        for row in run(client, sql, p)[1]:
            record = dict(zip(STORED_COLUMNS, row, strict=True))
            key = SpanKey(project, record["trace_id"], record["span_id"])
            if key in wanted:
                found[key] = row
    return found


def trace_id_chunks(client: Any, db: str, size: int) -> Iterator[tuple[str, list[bytes]]]:
    """Every trace (FINAL: once) as (project, up to ``size`` of its ids), keyset-paged."""
    after: tuple[str, bytes] | None = None
    while True:
        p = Params()
        where = ""
        if after is not None:
            where = f" WHERE (project, trace_id) > ({p.add(after[0])}, {p.add(after[1])})"
        sql = (
            f"SELECT project, trace_id FROM {db}.traces FINAL{where}"
            f" ORDER BY project, trace_id LIMIT {p.add(size)}"
        )
        rows = run(client, sql, p)[1]
        if not rows:
            return
        for project, group in itertools.groupby(rows, key=lambda row: str(row[0])):
            yield project, [row[1] for row in group]
        after = (rows[-1][0], rows[-1][1])
