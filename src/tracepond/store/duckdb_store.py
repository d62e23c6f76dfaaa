"""The DuckDB store: one file, one writer, many concurrent readers.

Only the pipeline's writer thread calls ``write``; every other thread reads through its own
cursor (a DuckDB connection to the same database), so reads never wait for the writer's lock.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tracepond.errors import StorageUnavailable, TracepondError
from tracepond.ingest._rows import SPAN_COLUMNS
from tracepond.store._schema import MIGRATIONS, migrate
from tracepond.store.base import SpanRecord, TracePage, TraceSummary, WriteResult

# RETURNING rows are few and narrow; the copy duckdb warns about is cheap.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")

_INSERT_COLUMNS = ", ".join(SPAN_COLUMNS)
_INSERT_SPANS = f"""
    INSERT OR IGNORE INTO spans ({_INSERT_COLUMNS}, duration_ns, ingested_ns)
    SELECT {_INSERT_COLUMNS}, end_ns - start_ns, $ingested_ns FROM batch
    RETURNING trace_id, span_id, parent_span_id, name, service_name, start_ns, end_ns, status_code
"""

# Merge the summary of newly inserted spans into `traces`. The root is the parentless span; until
# it arrives, root_name/service_name come from the earliest span seen so far.
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
        $now
    FROM inserted GROUP BY trace_id
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
        updated_ns = excluded.updated_ns
"""

_SPAN_SELECT = "SELECT * EXCLUDE (ingested_ns) FROM spans"
_SUMMARY_COLUMNS = (
    "trace_id, root_span_id, root_name, service_name, start_ns, end_ns, span_count, error_count"
)


def _arrow(result: Any) -> pa.Table:
    # duckdb 2 renamed fetch_arrow_table to to_arrow_table.
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()


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
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("batch", batch)
            now = time.time_ns()
            inserted = _arrow(con.execute(_INSERT_SPANS, {"ingested_ns": now}))
            if inserted.num_rows:
                con.register("inserted", inserted)
                con.execute(_UPSERT_TRACES, {"now": now})
                con.unregister("inserted")
            con.unregister("batch")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return WriteResult(
            inserted=inserted.num_rows, duplicates=batch.num_rows - inserted.num_rows
        )

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

    def _records(self, sql: str, params: list[Any]) -> list[SpanRecord]:
        cursor = self._reader().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def trace_spans(self, trace_id: bytes) -> list[SpanRecord]:
        return self._records(
            f"{_SPAN_SELECT} WHERE trace_id = ? ORDER BY start_ns, span_id", [trace_id]
        )

    def span(self, trace_id: bytes, span_id: bytes) -> SpanRecord | None:
        rows = self._records(
            f"{_SPAN_SELECT} WHERE trace_id = ? AND span_id = ?", [trace_id, span_id]
        )
        return rows[0] if rows else None

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
