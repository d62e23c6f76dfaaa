"""The DuckDB store: one file, one writer, many concurrent readers.

Only the pipeline's writer thread calls ``write``; every other thread reads through its own
cursor (a DuckDB connection to the same database), so reads never wait for the writer's lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tracepond.errors import StorageUnavailable, TracepondError
from tracepond.ingest._rows import SPAN_COLUMNS
from tracepond.store._schema import MIGRATIONS, migrate
from tracepond.store.base import SpanRecord, TracePage, TraceSummary, WriteResult

_INSERT_COLUMNS = ", ".join(SPAN_COLUMNS)
_INSERT_SPANS = f"""
    INSERT INTO spans ({_INSERT_COLUMNS}, duration_ns, ingested_ns)
    SELECT {_INSERT_COLUMNS}, end_ns - start_ns, $now FROM batch
"""

# Traces of this batch that already have stored spans, with where their spans start.
_EXISTING_TRACES = """
    SELECT trace_id, first_ingested_ns FROM traces
    WHERE trace_id IN (SELECT trace_id FROM batch_traces)
"""
# Stored spans of those traces; the ingest-time bound lets zone maps skip older row groups.
_STORED_KEYS = """
    SELECT trace_id, span_id FROM spans
    WHERE ingested_ns >= $since AND trace_id IN (SELECT trace_id FROM batch_traces)
"""

# Merge the summary of the new spans into `traces`. The root is the parentless span; until it
# arrives, root_name/service_name come from the earliest span seen so far.
_UPSERT_TRACES = """
    INSERT INTO traces
    SELECT
        trace_id,
        arg_min(span_id, start_ns) FILTER (WHERE parent_span_id IS NULL),
        coalesce(arg_min(name, start_ns) FILTER (WHERE parent_span_id IS NULL),
                 arg_min(name, start_ns)),
        coalesce(arg_min(service_name, start_ns) FILTER (WHERE parent_span_id IS NULL),
                 arg_min(service_name, start_ns)),
        min(start_ns), max(end_ns), count(*), count(*) FILTER (WHERE status_code = 2),
        $now, $now
    FROM batch GROUP BY trace_id
    ON CONFLICT (trace_id) DO UPDATE SET
        root_name = CASE
            WHEN excluded.root_span_id IS NOT NULL AND traces.root_span_id IS NULL
                THEN excluded.root_name
            WHEN traces.root_span_id IS NULL AND excluded.start_ns < traces.start_ns
                THEN excluded.root_name
            ELSE traces.root_name END,
        service_name = CASE
            WHEN excluded.root_span_id IS NOT NULL AND traces.root_span_id IS NULL
                THEN excluded.service_name
            WHEN traces.root_span_id IS NULL AND excluded.start_ns < traces.start_ns
                THEN excluded.service_name
            ELSE traces.service_name END,
        root_span_id = coalesce(traces.root_span_id, excluded.root_span_id),
        start_ns = least(traces.start_ns, excluded.start_ns),
        end_ns = greatest(traces.end_ns, excluded.end_ns),
        span_count = traces.span_count + excluded.span_count,
        error_count = traces.error_count + excluded.error_count,
        last_ingested_ns = excluded.last_ingested_ns
"""

_SPAN_SELECT = "SELECT * EXCLUDE (ingested_ns) FROM spans"
_SUMMARY_COLUMNS = (
    "trace_id, root_span_id, root_name, service_name, start_ns, end_ns, span_count, error_count"
)


def _first_copies(batch: pa.Table) -> pa.Table:
    """Keep the first copy of each (trace_id, span_id) within one batch."""
    keys = zip(batch["trace_id"].to_pylist(), batch["span_id"].to_pylist(), strict=True)
    seen: set[tuple[bytes, bytes]] = set()
    keep = []
    for key in keys:
        keep.append(key not in seen)
        seen.add(key)
    return batch if len(seen) == batch.num_rows else batch.filter(pa.array(keep))


def _scalar(con: Any, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


class DuckDBStore:
    """SpanStore over one DuckDB file (see ``store.base`` for the contract)."""

    def __init__(
        self,
        path: Path | str,
        *,
        memory_limit: str = "256MB",
        threads: int = 2,
        checkpoint_threshold: str = "64MB",
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit,
            "threads": threads,
            "checkpoint_threshold": checkpoint_threshold,
        }
        try:
            self._con = duckdb.connect(str(self.path), config=config)
        except duckdb.Error as exc:
            raise TracepondError(f"cannot open database {self.path}: {exc}") from exc
        self._check_version()
        self.schema_version = migrate(self._con)
        self._last_ingested_ns = int(
            _scalar(self._con, "SELECT coalesce(max(last_ingested_ns), 0) FROM traces")
        )
        self._local = threading.local()
        self._closed = False

    def _check_version(self) -> None:
        newest = MIGRATIONS[-1][0]
        exists = _scalar(
            self._con,
            "SELECT count(*) FROM information_schema.tables WHERE table_name='schema_migrations'",
        )
        if not exists:
            return
        found = _scalar(self._con, "SELECT max(version) FROM schema_migrations")
        if found is not None and found > newest:
            raise TracepondError(
                f"database {self.path} has schema version {found}, newer than this tracepond "
                f"understands ({newest}); upgrade tracepond"
            )

    # -- writes (the writer thread only) -------------------------------------------------------

    def write(self, tables: Sequence[pa.Table]) -> WriteResult:
        if self._closed:
            raise StorageUnavailable("store is closed")
        batch = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        received = batch.num_rows
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            batch = self._without_stored_spans(_first_copies(batch))
            if batch.num_rows:
                now = self._next_ingested_ns()
                con.register("batch", batch)
                con.execute(_INSERT_SPANS, {"now": now})
                con.execute(_UPSERT_TRACES, {"now": now})
                con.unregister("batch")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return WriteResult(inserted=batch.num_rows, duplicates=received - batch.num_rows)

    def _without_stored_spans(self, batch: pa.Table) -> pa.Table:
        """Drop spans already stored. Only traces already in `traces` can hold any, and only
        within their ingest window, so the common case (new traces) costs one small join."""
        con = self._con
        con.register("batch_traces", pa.table({"trace_id": pc.unique(batch["trace_id"])}))
        try:
            existing = con.execute(_EXISTING_TRACES).fetchall()
            if not existing:
                return batch
            since = min(first for _, first in existing)
            stored = set(con.execute(_STORED_KEYS, {"since": since}).fetchall())
        finally:
            con.unregister("batch_traces")
        if not stored:
            return batch
        keys = zip(batch["trace_id"].to_pylist(), batch["span_id"].to_pylist(), strict=True)
        return batch.filter(pa.array([key not in stored for key in keys]))

    def _next_ingested_ns(self) -> int:
        # Strictly increasing even if the wall clock steps back: the zone-map pruning of trace
        # lookups relies on ingested_ns growing with insertion order.
        self._last_ingested_ns = max(time.time_ns(), self._last_ingested_ns + 1)
        return self._last_ingested_ns

    def checkpoint(self) -> None:
        """Fold the WAL into the database file now (the writer calls this when idle)."""
        if not self._closed:
            self._con.execute("CHECKPOINT")

    # -- reads (any thread) --------------------------------------------------------------------

    def _reader(self) -> Any:
        if self._closed:
            raise StorageUnavailable("store is closed")
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._local.cursor = cursor
        return cursor

    def _records(self, sql: str, params: dict[str, Any]) -> list[SpanRecord]:
        cursor = self._reader().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def trace_spans(self, trace_id: bytes) -> list[SpanRecord]:
        window = self._ingest_window(trace_id)
        if window is None:
            return []
        return self._records(
            f"{_SPAN_SELECT} WHERE ingested_ns BETWEEN $first AND $last AND trace_id = $id"
            " ORDER BY start_ns, span_id",
            {"first": window[0], "last": window[1], "id": trace_id},
        )

    def span(self, trace_id: bytes, span_id: bytes) -> SpanRecord | None:
        window = self._ingest_window(trace_id)
        if window is None:
            return None
        rows = self._records(
            f"{_SPAN_SELECT} WHERE ingested_ns BETWEEN $first AND $last"
            " AND trace_id = $id AND span_id = $span",
            {"first": window[0], "last": window[1], "id": trace_id, "span": span_id},
        )
        return rows[0] if rows else None

    def _ingest_window(self, trace_id: bytes) -> tuple[int, int] | None:
        """When the trace's spans were committed. Passed to the span query as constants so that
        DuckDB prunes row groups by their ingested_ns zone maps (a subquery would not prune)."""
        row = (
            self._reader()
            .execute(
                "SELECT first_ingested_ns, last_ingested_ns FROM traces WHERE trace_id = ?",
                [trace_id],
            )
            .fetchone()
        )
        return (int(row[0]), int(row[1])) if row else None

    def trace_summary(self, trace_id: bytes) -> TraceSummary | None:
        row = (
            self._reader()
            .execute(f"SELECT {_SUMMARY_COLUMNS} FROM traces WHERE trace_id = ?", [trace_id])
            .fetchone()
        )
        return TraceSummary(*row) if row else None

    def list_traces(self, limit: int, after: tuple[int, bytes] | None = None) -> TracePage:
        sql = f"SELECT {_SUMMARY_COLUMNS} FROM traces"
        params: list[Any] = []
        if after is not None:
            sql += " WHERE start_ns < ? OR (start_ns = ? AND trace_id < ?)"
            params += [after[0], after[0], after[1]]
        sql += " ORDER BY start_ns DESC, trace_id DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._reader().execute(sql, params).fetchall()
        traces = [TraceSummary(*row) for row in rows[:limit]]
        more = len(rows) > limit
        cursor = (traces[-1].start_ns, traces[-1].trace_id) if more and traces else None
        return TracePage(traces=traces, next_cursor=cursor)

    def counts(self) -> tuple[int, int]:
        cursor = self._reader()
        spans = _scalar(cursor, "SELECT count(*) FROM spans")
        traces = _scalar(cursor, "SELECT count(*) FROM traces")
        return int(spans), int(traces)

    def database_bytes(self) -> int:
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            if path.exists():
                total += path.stat().st_size
        return total

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._con.execute("CHECKPOINT")
        self._con.close()
