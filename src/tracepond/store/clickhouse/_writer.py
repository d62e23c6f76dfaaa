"""Writes: new spans inserted once, then the summaries of the traces they touched recomputed
from every stored span of those traces (``_summaries``).

A write is acknowledged when ClickHouse acknowledged the spans' insert and the summaries'
insert (synchronous inserts; ``insert_quorum`` for replicated tables). Several writers (each
receiver's store) may write spans of one trace at once: each inserts only rows, never updates
one, and duplicates that slip past the check below (two receivers storing one span at the same
moment) are folded by ReplacingMergeTree and never read twice (reads use FINAL or keep the first
copy per span id).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from tracepond.errors import StorageRejected
from tracepond.model.records import WriteResult
from tracepond.model.spans import SpanBatch
from tracepond.store._rules import first_copies, without
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._sql import run, start_range
from tracepond.store.clickhouse._summaries import (
    SOURCE_COLUMNS,
    summary_rows,
    summary_table,
)

# Columns a span must have (the schema's non-Nullable ones): checked before anything is sent,
# so that a batch ClickHouse would refuse half-way is refused whole.
_REQUIRED: Final = (
    "trace_id",
    "span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status_code",
    "service_name",
    "attributes_json",
    "events_json",
    "links_json",
)
_VERSION_BASE: Final = 2**63


class Writer:
    def __init__(
        self, client: Any, database: str, insert_settings: dict[str, Any], read_settings: Any
    ) -> None:
        self.client = client
        self.database = database
        self.insert_settings = insert_settings
        # The recompute must see every acknowledged insert (replicas: sequential consistency).
        self.read_settings = read_settings
        self.lock = threading.Lock()
        self._last_ingested_ns = 0
        self._origin_ids: set[int] = set()

    def write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        with self.lock:
            return self._write(batches)

    def _write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        groups = _by_project(batches)
        for _, table in groups:
            _check_required(table)
        received = sum(batch.num_rows for batch in batches)
        now = self._next_ingested_ns()
        fresh = []
        for project, table in groups:
            unique = first_copies(table)
            stored = self._stored_keys(project, unique)
            rows = without(unique, stored)
            if rows.num_rows:
                fresh.append(_stored_form(rows, project, now))
        inserted = sum(t.num_rows for t in fresh)
        if fresh:
            self._insert_origins(batches)
            self._insert("spans", pa.concat_tables(fresh))
        # Every touched trace, new spans or not: a retry of a write whose summaries failed
        # after its spans were stored puts them right.
        summaries = []
        for project, table in groups:
            summaries += self._recompute(project, _trace_ids(table))
        if summaries:
            self._insert_summaries(summaries)
        return WriteResult(inserted=inserted, duplicates=received - inserted)

    def _next_ingested_ns(self) -> int:
        self._last_ingested_ns = max(time.time_ns(), self._last_ingested_ns + 1)
        return self._last_ingested_ns

    def _stored_keys(self, project: str, table: pa.Table) -> set[tuple[bytes, bytes]]:
        """The (trace_id, span_id) of the table's spans that are stored already. A resent span
        starts when it started the first time, so only the table's start times are looked at
        (the primary index narrows the read to their hours and days)."""
        p = Params()
        low, high = pc.min(table["start_ns"]).as_py(), pc.max(table["start_ns"]).as_py()
        sql = (
            f"SELECT trace_id, span_id FROM {self.database}.spans"
            f" WHERE project = {p.add(project)} AND {start_range('', p.add(low), p.add(high))}"
            f" AND trace_id IN {p.add(_trace_ids(table))}"
        )
        _, rows = run(self.client, sql, p, self.read_settings)
        return {(row[0], row[1]) for row in rows}

    def recompute(self, project: str, trace_ids: list[bytes]) -> None:
        """Insert the summaries of these traces computed afresh from their stored spans (a
        summary over as many spans as the stored one replaces it: the last inserted wins)."""
        with self.lock:
            summaries = self._recompute(project, trace_ids)
            if summaries:
                self._insert_summaries(summaries)

    def _recompute(self, project: str, trace_ids: list[bytes]) -> list[tuple[Any, ...]]:
        p = Params()
        sql = (
            f"SELECT {', '.join(SOURCE_COLUMNS)} FROM {self.database}.spans"
            f" WHERE project = {p.add(project)} AND trace_id IN {p.add(trace_ids)}"
        )
        _, rows = run(self.client, sql, p, self.read_settings)
        return summary_rows(project, rows)

    def _insert(self, table_name: str, table: pa.Table) -> None:
        self.client.insert_arrow(
            f"{self.database}.{table_name}", table, settings=self.insert_settings
        )

    def _insert_summaries(self, rows: list[tuple[Any, ...]]) -> None:
        self._insert("traces", summary_table(rows))

    def _insert_origins(self, batches: Sequence[SpanBatch]) -> None:
        """The batches' origins this writer has not stored yet (a few per process; a second
        copy written by another receiver is folded by ReplacingMergeTree)."""
        new = {
            origin_id: texts
            for batch in batches
            for origin_id, texts in batch.origins.items()
            if origin_id not in self._origin_ids
        }
        if not new:
            return
        rows = [(origin_id, resource, scope) for origin_id, (resource, scope) in new.items()]
        self.client.insert(
            f"{self.database}.origins",
            rows,
            column_names=["id", "resource_json", "scope_json"],
            settings=self.insert_settings,
        )
        self._origin_ids.update(new)

    def forget_origins(self, ids: Sequence[int]) -> None:
        self._origin_ids.difference_update(ids)


def _by_project(batches: Sequence[SpanBatch]) -> list[tuple[str, pa.Table]]:
    """The write's rows per project, in the order they came (the first copy of a span wins)."""
    groups: dict[str, list[pa.Table]] = {}
    for batch in batches:
        groups.setdefault(batch.project, []).append(batch.table)
    return [(project, pa.concat_tables(tables)) for project, tables in groups.items()]


def _check_required(table: pa.Table) -> None:
    for name in _REQUIRED:
        if table[name].null_count:
            raise StorageRejected(f"the store cannot store this data: a span without {name}")


def _trace_ids(table: pa.Table) -> list[bytes]:
    return list(dict.fromkeys(table["trace_id"].to_pylist()))


def _stored_form(table: pa.Table, project: str, now: int) -> pa.Table:
    """The span rows as the spans table holds them: with their project, duration, ingest time
    and version (decreasing with ingest time: the first stored copy is the one kept)."""
    count = table.num_rows
    return (
        table.append_column("project", pa.array([project] * count, pa.string()))
        .append_column("duration_ns", pc.subtract(table["end_ns"], table["start_ns"]))
        .append_column("ingested_ns", pa.array([now] * count, pa.int64()))
        .append_column("version", pa.array([_VERSION_BASE - now] * count, pa.uint64()))
    )
