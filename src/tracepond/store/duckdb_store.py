"""The DuckDB store: one file, one writer, many concurrent readers.

Only the pipeline's writer thread calls ``write``; every other thread reads through its own
cursor (a DuckDB connection to the same database), so reads never wait for the writer's lock.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import duckdb
import pyarrow as pa

from tracepond.conventions import totals_by_trace
from tracepond.deadline import Deadline
from tracepond.errors import (
    QueryMemoryLimit,
    QueryTimeout,
    StorageUnavailable,
    StoreReadError,
    TracepondError,
)
from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.model.keys import KeyRecord
from tracepond.model.records import (
    TREE_COLUMNS,
    PageToken,
    RawSpan,
    SearchPage,
    SearchRequest,
    SessionPage,
    SpanColumns,
    SpanKey,
    SpanRecord,
    StatsRequest,
    StatsRow,
    StoreCapabilities,
    StoreHealth,
    TracePage,
    TraceSummary,
    WriteResult,
)
from tracepond.model.spans import DERIVED_COLUMNS, SPAN_COLUMNS, SPAN_SCHEMA, SpanBatch
from tracepond.model.summary import TracePartial, TraceTotals
from tracepond.projects import DEFAULT_PROJECT, Project
from tracepond.store import (
    _jaeger_sql,
    _keys,
    _origins,
    _projects,
    _purge,
    _search,
    _sessions,
    _skeleton,
    _stats,
    _tokens,
)
from tracepond.store._checkpoints import (
    CheckpointPolicy,
    memory_limit_bytes,
    next_recovery_memory,
    parse_size,
    replay_memory_bytes,
    wal_bytes,
)
from tracepond.store._failures import classify, describe, is_fatal, is_memory_error
from tracepond.store._known_traces import KnownTraceIds
from tracepond.store._literals import blob_literal, in_trace, int_literal, project_literal
from tracepond.store._rules import (
    STORED_SPAN_COLUMNS,
    TOTALS_SPAN_COLUMNS,
    batch_traces,
    drop_stored,
    merged_summary,
)
from tracepond.store._schema import MIGRATIONS, migrate

log = logging.getLogger(__name__)

_INSERT_COLUMNS = ", ".join(SPAN_COLUMNS)
# `{now}` is filled in as a literal: as a parameter its type is unknown when DuckDB prepares the
# statement, which then binds and plans it a second time (~1 ms per commit).
_INSERT_SPANS = f"""
    INSERT INTO spans ({_INSERT_COLUMNS}, duration_ns, ingested_ns, project)
    SELECT {_INSERT_COLUMNS}, end_ns - start_ns, {{now}}, {{project}} FROM arrow_rows
"""

# The stored summaries of the batch's traces (a primary-key lookup per id).
_STORED_TRACES = """
    SELECT trace_id, root_span_id, root_name, service_name, start_ns, end_ns, span_count,
           error_count, first_ingested_ns
    FROM traces WHERE project = $project AND trace_id = ANY($ids)
"""
# Stored spans of those traces, with what their totals and root need; the ingest-time bound
# lets zone maps skip older row groups.
_STORED_SPANS = f"""
    SELECT {", ".join(STORED_SPAN_COLUMNS)} FROM spans
    WHERE ingested_ns >= $since AND project = $project AND trace_id = ANY($ids)
"""
_TRACES_SCHEMA = pa.schema(
    [
        ("trace_id", pa.binary()),
        ("root_span_id", pa.binary()),
        ("root_name", pa.string()),
        ("service_name", pa.string()),
        ("start_ns", pa.int64()),
        ("end_ns", pa.int64()),
        ("span_count", pa.int64()),
        ("error_count", pa.int64()),
        ("first_ingested_ns", pa.int64()),
        ("last_ingested_ns", pa.int64()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("total_tokens", pa.int64()),
        ("cost", pa.float64()),
        ("models", pa.list_(pa.string())),
        ("session_id", pa.string()),
        ("user_id", pa.string()),
        ("llm_count", pa.int32()),
        ("tool_count", pa.int32()),
        ("retriever_count", pa.int32()),
    ]
)
_TRACE_COLUMNS = ", ".join(_TRACES_SCHEMA.names)
# traces column -> TraceTotals attribute
_TOTALS_FIELDS = {
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "total_tokens": "total_tokens",
    "cost": "cost",
    "models": "models",
    "session_id": "session_id",
    "user_id": "user_id",
    "llm_count": "llm_steps",
    "tool_count": "tool_steps",
    "retriever_count": "retriever_steps",
}
_DERIVED_TYPES = {name: SPAN_SCHEMA.field(name).type for name in DERIVED_COLUMNS}
# `{project}` is a project literal (_literals.project_literal), pasted like `{now}`.
_INSERT_TRACES = (
    f"INSERT INTO traces (project, {_TRACE_COLUMNS})"
    f" SELECT {{project}}, {_TRACE_COLUMNS} FROM arrow_rows"
)
_UPDATE_TRACES = (
    "UPDATE traces SET {} FROM arrow_rows u"
    " WHERE traces.trace_id = u.trace_id AND traces.project = {{project}}"
).format(
    ", ".join(
        f"{name} = u.{name}"
        for name in _TRACES_SCHEMA.names
        if name not in ("trace_id", "first_ingested_ns")
    )
)

_SPAN_SELECT = _origins.SPAN_SELECT
# What a tree node shows (model.records.TREE_COLUMNS). Reading fewer columns makes a trace fetch
# ~40% faster at 1M spans: each column read decompresses the whole vector holding the spans.
_TREE_SELECT = f"SELECT {', '.join(TREE_COLUMNS)} FROM spans"
_TREE_SELECT_WITH_TRACE = f"SELECT trace_id, {', '.join(TREE_COLUMNS)} FROM spans"
_SUMMARY_COLUMNS = (
    "trace_id, root_span_id, root_name, service_name, start_ns, end_ns, span_count, error_count,"
    " input_tokens, output_tokens, total_tokens, cost, models, session_id, user_id, llm_count,"
    " tool_count, retriever_count"
)


def _by_project(
    table: pa.Table, batches: Sequence[SpanBatch]
) -> list[tuple[str, pa.Table, Sequence[SpanBatch]]]:
    """The commit's rows per project: usually one (a request names one project), so the rows
    are used as they are; batches of several projects are regrouped."""
    projects = {batch.project for batch in batches}
    if len(projects) == 1:
        return [(batches[0].project, table, batches)]
    groups: dict[str, list[SpanBatch]] = {}
    for batch in batches:
        groups.setdefault(batch.project, []).append(batch)
    return [(project, _one_chunk(group), group) for project, group in groups.items()]


def _start_order(record: SpanRecord) -> tuple[int, bytes]:
    return record["start_ns"], record["span_id"]


def _partial_from_row(row: tuple[Any, ...]) -> TracePartial:
    trace_id, root_span_id, name, service, start_ns, end_ns, spans, errors, _ = row
    return TracePartial(
        trace_id, root_span_id, name, service, start_ns, name, service, end_ns, spans, errors
    )


def _summary_row(partial: TracePartial, first_ingested: int, last_ingested: int) -> tuple[Any, ...]:
    totals = partial.totals if partial.totals is not None else TraceTotals()
    return (
        partial.trace_id,
        partial.root_span_id,
        partial.name,
        partial.service,
        partial.first_start_ns,
        partial.end_ns,
        partial.span_count,
        partial.error_count,
        first_ingested,
        last_ingested,
        totals.input_tokens,
        totals.output_tokens,
        totals.total_tokens,
        totals.cost,
        totals.models,
        totals.session_id,
        totals.user_id,
        totals.llm_steps,
        totals.tool_steps,
        totals.retriever_steps,
    )


def _rows_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, _TRACES_SCHEMA, strict=True)],
        schema=_TRACES_SCHEMA,
    )


# Recovery waits for at least this much free space on the database's disk (and for the WAL's
# size: the checkpoint that proves the store can write rewrites it into the file).
RECOVERY_FREE_BYTES = 16 * 1024**2

_ORIGINS_SCHEMA = pa.schema(
    [("id", pa.int64()), ("resource_json", pa.string()), ("scope_json", pa.string())]
)


def _origins_table(origins: dict[int, tuple[str, str]]) -> pa.Table:
    texts = list(origins.values())
    return pa.Table.from_arrays(
        [
            pa.array(list(origins), pa.int64()),
            pa.array([resource for resource, _ in texts], pa.string()),
            pa.array([scope for _, scope in texts], pa.string()),
        ],
        schema=_ORIGINS_SCHEMA,
    )


def _one_chunk(batches: Sequence[SpanBatch]) -> pa.Table:
    """The batches' rows as one contiguous Arrow chunk. DuckDB scans a table of several chunks
    on several threads, each appending to a row-group collection of its own that COMMIT then
    merges: for a 1,024-span commit of two chunks that doubled COMMIT's CPU (11.1 against 5.3
    µs/span, interleaved A/B), against a ~1 MB copy here."""
    if len(batches) == 1 and batches[0].table.column(0).num_chunks <= 1:
        return batches[0].table
    return pa.concat_tables(b.table for b in batches).combine_chunks()


def _execute_over(con: Any, sql: str, arrow_rows: pa.Table) -> None:
    """Run ``sql``, which reads the table ``arrow_rows``: DuckDB finds it as this frame's local
    variable of that name (a replacement scan). Registering the table under a name instead
    (``con.register``) cost ~3 ms more per statement for a 512-span insert in a probe (5.5
    against 8.9-11 ms), and a commit runs two or three such statements."""
    con.execute(sql)


def _size(text: str, what: str) -> int:
    """Bytes of a DuckDB size setting, checked here: sizes are pasted into SET statements."""
    try:
        return parse_size(text)
    except ValueError as exc:
        raise TracepondError(f"invalid {what}: {exc}") from None


def _checked_size(text: str | None, what: str) -> str | None:
    return None if text is None else f"{_size(text, what)} bytes"


def _checkpoint(con: Any) -> None:
    con.execute("CHECKPOINT")


def _checkpoint_without_vacuum(con: Any) -> None:
    """CHECKPOINT without merging row groups: each row group appended since the last one is
    written as it is, and none already on disk is rewritten (``_checkpoints``)."""
    con.execute("SET max_vacuum_tasks = 0")
    try:
        con.execute("CHECKPOINT")
    finally:
        with contextlib.suppress(duckdb.Error):  # an invalidated database refuses it: harmless
            con.execute("RESET max_vacuum_tasks")


def _rollback(con: Any) -> None:
    """Roll back the transaction under way. A COMMIT that failed has already ended it, and the
    error of a second ROLLBACK must not hide the first one's."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error as exc:
        if "no transaction is active" not in str(exc):
            log.warning("rollback failed: %s", describe(exc))


def _scalar(con: Any, sql: str) -> Any:
    return _first(con.execute(sql))[0]


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _read(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A read method: checks the thread's deadline first, and turns DuckDB's exceptions into
    the store contract's errors (store/contract.py), so no engine exception leaves a read."""

    @functools.wraps(method)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        store: DuckDBStore = args[0]  # type: ignore[assignment]
        deadline = store._deadline()
        if deadline is not None:
            deadline.check()
        try:
            return method(*args, **kwargs)
        except duckdb.InterruptException as exc:
            raise (deadline.error() if deadline else QueryTimeout("the read was stopped")) from exc
        except duckdb.OutOfMemoryException as exc:
            raise QueryMemoryLimit(
                "the query needs more memory than the server allows a query; narrow it"
                " (a time range, fewer selectors) and try again"
            ) from exc
        except duckdb.Error as exc:
            log.warning("a read failed in DuckDB", exc_info=True)
            raise StoreReadError(f"the store could not run this read: {describe(exc)}") from exc

    return read


def _first(result: Any) -> tuple[Any, ...]:
    """The first row, or a row of Nones. Reads the whole result: a result left unfinished keeps
    its transaction open, and an open transaction makes CHECKPOINT fail."""
    rows = result.fetchall()
    return tuple(rows[0]) if rows else (None,) * len(result.description)


class DuckDBStore:
    """The store contract over one DuckDB file (``store.contract.Store``)."""

    # Full text is a scan of the attributes; the WAL wants checkpoints; deleting traces frees
    # blocks (reused once checkpointed), so a size budget can be kept; no TTL.
    capabilities = StoreCapabilities(
        indexed_full_text=False, housekeeping=True, size_budget=True, ttl_retention=False
    )

    def __init__(
        self,
        path: Path | str,
        *,
        memory_limit: str = "256MB",
        threads: int = 2,
        checkpoint_threshold: str = "64MB",
        query_memory_limit: str | None = None,
        max_temp_size: str | None = None,
        max_row_bytes: int = 0,
    ) -> None:
        """``max_row_bytes``: the largest span (its values together) a write may hold; DuckDB's
        memory limit is raised to what committing and replaying one that large needs
        (``_checkpoints.memory_limit_bytes``), never lowered below ``memory_limit``."""
        threshold_bytes = _size(checkpoint_threshold, "checkpoint threshold")
        self.memory_bytes = memory_limit_bytes(_size(memory_limit, "memory limit"), max_row_bytes)
        self._threshold_bytes = threshold_bytes
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": f"{self.memory_bytes} bytes",
            "threads": threads,
            # A backstop: the writer checkpoints at the threshold itself (_checkpoints.py).
            "checkpoint_threshold": f"{2 * threshold_bytes} bytes",
            # Writes read their Arrow rows through replacement scans (_execute_over); this frame
            # only, so a query never picks up some caller's variable.
            "python_enable_replacements": True,
            "python_scan_all_frames": False,
        }
        # Reads: sorts and hash tables of one read spill past query_memory_limit (per
        # connection); spilling past max_temp_size fails the read (QueryMemoryLimit).
        self._query_memory_limit = _checked_size(query_memory_limit, "query memory limit")
        temp_limit = _checked_size(max_temp_size, "max temp size")
        if temp_limit is not None:
            self._config["max_temp_directory_size"] = temp_limit
        self._local = threading.local()
        self._closed = False
        # Why writes fail now (None: they do not); set by a failed write or checkpoint, cleared
        # by a successful one or by recover(). Read by health() from any thread.
        self._problem: str | None = None
        # The connection refuses every statement (DuckDB invalidated it): writes are refused
        # until recover() has opened the database again.
        self._invalidated = False
        # Bumped at each (re)open: readers' cursors of an older connection are replaced.
        self._generation = 0
        self._cursors: list[Any] = []
        self._cursors_lock = threading.Lock()
        # The least buffer pool a checkpoint gets: raised when a WAL needed more to fold in.
        self._checkpoint_floor = self.memory_bytes
        self._open()

    def _open(self) -> None:
        """Open the database (replaying its WAL) and load the writer's state from it.

        Replaying a WAL pins its large values in memory again, and the checkpoint after it
        needs them all at once: with the everyday memory limit a WAL of large spans could fail
        every start (and every recovery) the same way. So a WAL is replayed and folded into the
        file under a limit sized for it, and the everyday limit is set once it is gone."""
        wal = wal_bytes(Path(f"{self.path}.wal"))
        limit = max(replay_memory_bytes(self.memory_bytes, wal), self._checkpoint_floor)
        while True:
            try:
                self._connect(limit, checkpoint=bool(wal))
                break
            except duckdb.Error as exc:
                larger = next_recovery_memory(limit, self.memory_bytes)
                if larger is None or not is_memory_error(exc):
                    raise TracepondError(f"cannot open database {self.path}: {exc}") from exc
                log.warning(
                    "replaying the WAL of %s needs more than %d bytes of memory; trying %d",
                    self.path,
                    limit,
                    larger,
                )
                limit = larger
        if wal and limit > self.memory_bytes:
            # What this WAL's checkpoint needed, later checkpoints get too (they fold the same
            # row group in), so that they do not fail the same way.
            self._checkpoint_floor = max(self._checkpoint_floor, limit)
        self._check_version()
        self.schema_version = migrate(self._con)
        self._last_ingested_ns = int(
            _scalar(self._con, "SELECT coalesce(max(last_ingested_ns), 0) FROM traces")
        )
        self._checkpoints = CheckpointPolicy(
            Path(f"{self.path}.wal"), self._threshold_bytes, self.span_count(), self.memory_bytes
        )
        # Stored summaries of the traces in the commit under way (writer thread only).
        self._stored: dict[bytes, tuple[TracePartial, int]] = {}
        self._known = KnownTraceIds()
        self._loader: threading.Thread | None = None
        # Ids of the stored origins (writer thread only; read at the first write: they are few).
        self._origin_ids: set[int] | None = None
        self._generation += 1

    def _connect(self, memory_limit: int, checkpoint: bool) -> None:
        config = {**self._config, "memory_limit": f"{memory_limit} bytes"}
        self._con = duckdb.connect(str(self.path), config=config)
        if not checkpoint:
            return
        try:
            # Folding the WAL in is what start-up needs; merging row groups (which may hold
            # large values a previous run left unmerged) waits for the next checkpoint, which
            # gets the memory for it.
            _checkpoint_without_vacuum(self._con)
        except duckdb.Error:
            with contextlib.suppress(duckdb.Error):
                self._con.close()
            raise
        self._set_memory_limit(self.memory_bytes)

    def _start_loading_known(self) -> None:
        """Load the stored trace ids into the writer's filter, in the background, on the first
        write: read-only users of the store (the CLI's exports) never pay for it."""
        self._loader = threading.Thread(
            target=self._load_known, name="tracepond-known-traces", daemon=True
        )
        self._loader.start()

    def _load_known(self) -> None:
        cursor = self._con.cursor()
        known, generation = self._known, self._generation

        def current() -> bool:
            return not self._closed and generation == self._generation

        try:
            result = cursor.execute("SELECT trace_id FROM traces")
            # Chunked, so that close() and recover() never wait for more than one chunk.
            while current() and (rows := result.fetchmany(8192)):
                known.add(row[0] for row in rows)
            if current():
                known.mark_loaded()
        except Exception:
            # Without the filter every commit looks its trace ids up: slower, still correct.
            if current():
                log.exception("loading the stored trace ids failed")
        finally:
            cursor.close()

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

    def write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        """Raises StorageUnavailable (retry later) or StorageRejected (the data cannot be
        stored); either way nothing of the batch that failed was stored. A group whose large
        values would not fit in memory together is committed in parts (``_checkpoints``), each
        batch whole in one of them; when a later part fails, the earlier ones stay stored and
        are found as duplicates when the writer retries the batches one by one."""
        self._check_writable()
        inserted = duplicates = 0
        try:
            for part, pinned, sliced in self._checkpoints.parts(batches):
                result = self._write(_one_chunk(part), part, pinned)
                inserted += result.inserted
                duplicates += result.duplicates
                if sliced:
                    self._checkpoint_after_write()
        except Exception as exc:
            raise self._failed(exc) from exc
        if inserted:
            self._problem = None  # it wrote to disk: whatever failed before is over
        if self._checkpoints.due_after():
            self._checkpoint_after_write()
        return WriteResult(inserted=inserted, duplicates=duplicates)

    def _checkpoint_after_write(self) -> None:
        """Checkpoint the large values just committed (``_checkpoints.due_after``). The commit
        stands whatever happens here (it is in the WAL): a failure is noted in the store's
        health, and recovery or the next checkpoint deals with it."""
        try:
            self._checkpoint_now(vacuum=False)
        except duckdb.Error as exc:
            self._failed(exc)
        else:
            self._checkpoints.checkpointed()

    def _check_writable(self) -> None:
        if self._closed:
            raise StorageUnavailable("store is closed")
        if self._invalidated:
            raise StorageUnavailable(f"the store is recovering from: {self._problem}")

    def _failed(self, exc: Exception) -> TracepondError:
        """Note a failed write or checkpoint; the error to raise for it."""
        error = classify(exc)
        if isinstance(error, StorageUnavailable):
            self._problem = describe(exc)
            if is_fatal(exc):
                self._invalidated = True
            log.warning("the store cannot write: %s", self._problem)
        return error

    def _write(self, table: pa.Table, batches: Sequence[SpanBatch], pinned: int) -> WriteResult:
        received = table.num_rows
        if self._loader is None:
            self._start_loading_known()
        if self._checkpoints.due_before(received, pinned):
            self._checkpoint_between_writes(vacuum=self._checkpoints.vacuum_for(pinned))
        needed = self._checkpoints.commit_memory_bytes(pinned)
        if needed <= self.memory_bytes:
            return self._commit(table, batches, pinned)
        needed = max(needed, self._checkpoints.checkpoint_memory_bytes(pinned, vacuum=False))
        # One batch larger than the buffer pool holds: committed under a limit raised for it,
        # and checkpointed before the limit comes down, so that nothing stays pinned above it.
        self._set_memory_limit(needed)
        try:
            result = self._commit(table, batches, pinned)
            _checkpoint_without_vacuum(self._con)
            self._checkpoints.checkpointed()
        finally:
            self._set_memory_limit(self.memory_bytes)
        return result

    def _commit(self, table: pa.Table, batches: Sequence[SpanBatch], pinned: int) -> WriteResult:
        received = table.num_rows
        con = self._con
        origins = self._new_origins(batches)
        inserted = 0
        new_traces: list[bytes] = []
        now = self._next_ingested_ns()
        con.execute("BEGIN TRANSACTION")
        try:
            for project, rows, group in _by_project(table, batches):
                fresh, traces = self._new_spans(rows, group, project)
                if fresh.num_rows:
                    if origins and not inserted:
                        _execute_over(con, _origins.INSERT_ORIGINS, _origins_table(origins))
                    literal = project_literal(project)
                    _execute_over(
                        con, _INSERT_SPANS.format(now=int_literal(now), project=literal), fresh
                    )
                    self._write_summaries(traces, now, literal)
                inserted += fresh.num_rows
                new_traces += [t for t in traces if t not in self._stored]
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        self._known.add(new_traces)
        self._checkpoints.committed(inserted, pinned if inserted else 0)
        if inserted:
            self._stored_origin_ids().update(origins)
        return WriteResult(inserted=inserted, duplicates=received - inserted)

    def _new_origins(self, batches: Sequence[SpanBatch]) -> dict[int, tuple[str, str]]:
        """The origins the batches refer to that are not stored yet (usually none)."""
        stored = self._stored_origin_ids()
        return {
            origin_id: texts
            for batch in batches
            for origin_id, texts in batch.origins.items()
            if origin_id not in stored
        }

    def _stored_origin_ids(self) -> set[int]:
        if self._origin_ids is None:
            rows = self._con.execute(_origins.KNOWN_ORIGINS).fetchall()
            self._origin_ids = {row[0] for row in rows}
        return self._origin_ids

    def _new_spans(
        self, table: pa.Table, batches: Sequence[SpanBatch], project: str
    ) -> tuple[pa.Table, dict[bytes, TracePartial]]:
        """The spans of ``table`` not stored yet, with complete per-trace summaries (the rules
        of ``store/_rules.py``, over the stored summaries and spans of the write's traces)."""
        unique, traces = batch_traces(table, batches)
        self._stored = self._stored_summaries(list(traces), project)
        stored_spans = self._stored_spans(project) if self._stored else []
        return drop_stored(unique, traces, self._stored.keys(), stored_spans)

    def _stored_summaries(
        self, trace_ids: list[bytes], project: str
    ) -> dict[bytes, tuple[TracePartial, int]]:
        # The filter holds the trace ids of every project: an id of another project's trace
        # only costs the lookup below, which finds nothing in this one.
        maybe = self._known.possibly_stored(trace_ids)
        if maybe is not None:
            if not maybe:
                return {}
            trace_ids = maybe
        params = {"ids": trace_ids, "project": project}
        rows = self._con.execute(_STORED_TRACES, params).fetchall()
        return {row[0]: (_partial_from_row(row), row[8]) for row in rows}

    def _stored_spans(self, project: str) -> list[tuple[Any, ...]]:
        """Stored spans of the traces that already have a summary. Only those can hold a
        duplicate, and only within their ingest window: new traces cost no scan at all."""
        since = min(first for _, first in self._stored.values())
        params = {"since": since, "ids": list(self._stored), "project": project}
        return list(self._con.execute(_STORED_SPANS, params).fetchall())

    def _write_summaries(self, traces: dict[bytes, TracePartial], now: int, project: str) -> None:
        """``project``: the project's SQL literal."""
        new_rows: list[tuple[Any, ...]] = []
        changed_rows: list[tuple[Any, ...]] = []
        for trace_id, partial in traces.items():
            stored = self._stored.get(trace_id)
            if stored is None:
                new_rows.append(_summary_row(partial, now, now))
            else:
                summary, first_ingested = stored
                merged = merged_summary(summary, partial)
                changed_rows.append(_summary_row(merged, first_ingested, now))
        con = self._con
        if new_rows:
            _execute_over(con, _INSERT_TRACES.format(project=project), _rows_table(new_rows))
        if changed_rows:
            _execute_over(con, _UPDATE_TRACES.format(project=project), _rows_table(changed_rows))

    def _next_ingested_ns(self) -> int:
        # Strictly increasing even if the wall clock steps back: the zone-map pruning of trace
        # lookups relies on ingested_ns growing with insertion order.
        self._last_ingested_ns = max(time.time_ns(), self._last_ingested_ns + 1)
        return self._last_ingested_ns

    def commit_room(self) -> int | None:
        return self._checkpoints.room()

    def _checkpoint_now(self, vacuum: bool = True) -> None:
        """CHECKPOINT, under a memory limit raised for the large values it must hold at once
        (a checkpoint that cannot pin a block invalidates the database); without merging row
        groups unless ``vacuum`` (``_checkpoints``)."""
        needed = max(self._checkpoints.checkpoint_memory_bytes(0, vacuum), self._checkpoint_floor)
        checkpoint = _checkpoint if vacuum else _checkpoint_without_vacuum
        if needed > self.memory_bytes:
            self._set_memory_limit(needed)
            try:
                checkpoint(self._con)
            finally:
                self._set_memory_limit(self.memory_bytes)
        else:
            checkpoint(self._con)

    def _set_memory_limit(self, size: int) -> None:
        with contextlib.suppress(duckdb.Error):  # an invalidated database refuses it: harmless
            self._con.execute(f"SET memory_limit = '{int(size)} bytes'")

    def _checkpoint_between_writes(self, vacuum: bool) -> None:
        try:
            self._checkpoint_now(vacuum)
        except duckdb.Error as exc:
            if is_fatal(exc):
                raise  # the database is invalidated: this write fails, recovery reopens it
            # The data is safe in the WAL; the backstop (or the next boundary) checkpoints later.
            log.warning("checkpoint before a write failed", exc_info=True)
        else:
            self._checkpoints.checkpointed()

    def checkpoint(self) -> None:
        """Fold the WAL into the database file now (the writer calls this when idle). Raises
        StorageUnavailable when it fails."""
        if self._closed or self._invalidated:
            return
        try:
            self._checkpoint_now()
        except Exception as exc:
            raise self._failed(exc) from exc
        self._checkpoints.checkpointed()

    # -- deletion (writer thread: retention, size budget, deletes; see store/_purge.py) --------

    def delete_traces(
        self, project: str, trace_ids: list[bytes], ended_before: int | None = None
    ) -> int:
        """Delete these traces of ``project`` whole (spans and summary) in one transaction; ids
        not stored there are ignored. With ``ended_before``, only those whose spans all ended
        before it (expiry). Returns how many were deleted. Raises StorageUnavailable like
        ``write``."""
        self._check_writable()
        if not trace_ids:
            return 0
        con = self._con
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                located = _purge.locate(con, project, trace_ids, ended_before)
                if located:
                    _purge.delete_located(con, project, located)
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise
        except Exception as exc:
            raise self._failed(exc) from exc
        return len(located)

    def drop_unused_origins(self) -> int:
        """Delete the origins no stored span refers to any more (after deletions)."""
        self._check_writable()
        try:
            dropped = [row[0] for row in self._con.execute(_purge.ORPHAN_ORIGINS).fetchall()]
        except Exception as exc:
            raise self._failed(exc) from exc
        # The writer's cache of stored origins must forget them, or a later span of the same
        # resource would refer to an origin that is not there.
        self._stored_origin_ids().difference_update(dropped)
        return len(dropped)

    @_read
    def expired_trace_ids(self, project: str, ended_before: int, limit: int) -> list[bytes]:
        """Up to ``limit`` of the project's traces whose spans all ended before
        ``ended_before``, oldest first."""
        params = {"project": project, "cutoff": ended_before, "n": limit}
        rows = self._reader().execute(_purge.EXPIRED, params)
        return [row[0] for row in rows.fetchall()]

    @_read
    def oldest_trace_ids(self, limit: int) -> list[tuple[str, bytes]]:
        """The ``limit`` oldest traces of every project, as (project, trace id)."""
        rows = self._reader().execute(_purge.OLDEST, {"n": limit}).fetchall()
        return [(row[0], row[1]) for row in rows]

    @_read
    def project_retentions(self) -> dict[str, int | None]:
        """Each project's own retention in nanoseconds (None: the server-wide one)."""
        return dict(self._reader().execute(_purge.RETENTIONS).fetchall())

    @_read
    def used_bytes(self) -> int:
        """What the data takes on disk: the file's blocks in use plus the WAL (deleted rows'
        blocks are freed at the checkpoint after the deletion, and reused, not given back)."""
        wal = Path(f"{self.path}.wal")
        return _purge.used_file_bytes(self._reader()) + (wal.stat().st_size if wal.exists() else 0)

    # -- health and recovery -------------------------------------------------------------------

    def health(self) -> StoreHealth:
        problem = self._problem or ""
        if self._closed:
            return StoreHealth("closed", "the store is closed")
        if self._invalidated:
            return StoreHealth("recovering", problem)
        return StoreHealth("failing", problem) if problem else StoreHealth("ok")

    def recover(self) -> bool:
        if self._closed:
            return False
        if self._problem is None:
            return True
        if not self._enough_free_space():
            return False
        try:
            if self._invalidated:
                self._reopen()
            # Proves the store can write again, and frees what the failure left pinned.
            self._checkpoint_now()
        except Exception as exc:
            self._failed(exc)
            return False
        self._checkpoints.checkpointed()
        self._problem = None
        log.warning("the store writes again")
        return True

    def _enough_free_space(self) -> bool:
        needed = max(RECOVERY_FREE_BYTES, self._checkpoints.wal_bytes())
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError as exc:
            free, needed = 0, 1
            log.warning("cannot tell the free space for %s: %s", self.path, exc)
        if free >= needed:
            return True
        reason = f"{free} bytes free on the database's disk, waiting for {needed}"
        if self._problem and "waiting for" not in self._problem:
            reason = f"{self._problem}; {reason}"
        self._problem = reason
        return False

    def _reopen(self) -> None:
        """Close the invalidated connection and open the database again: DuckDB replays the
        WAL, which holds every committed write, and the writer's state is loaded anew."""
        log.warning("reopening %s after: %s", self.path, self._problem)
        self._generation += 1  # stops the known-trace loader and retires readers' cursors
        if self._loader is not None:
            self._loader.join()
        # Every connection to the old database must be closed, or connect() would hand back
        # the same invalidated instance.
        with self._cursors_lock:
            cursors, self._cursors = self._cursors, []
        for cursor in [*cursors, self._con]:
            with contextlib.suppress(Exception):
                cursor.close()
        self._open()
        self._invalidated = False

    # -- reindexing (offline: `tracepond reindex`, with the server stopped) --------------------

    def span_count(self) -> int:
        return int(_scalar(self._con, "SELECT count(*) FROM spans"))

    def raw_span_chunks(self, size: int) -> Iterator[list[RawSpan]]:
        """Every span's key and raw values, by rowid ranges of ``size`` (bounded memory; rowids
        are only this method's way through the table, never part of what it yields)."""
        last = _scalar(self._con, "SELECT max(rowid) FROM spans")
        if last is None:
            return
        for low in range(0, int(last) + 1, size):
            rows = self._con.execute(
                "SELECT project, trace_id, span_id, name, status_code, status_message,"
                " attributes_json, events_json, start_ns FROM spans"
                " WHERE rowid >= $low AND rowid < $high",
                {"low": low, "high": low + size},
            ).fetchall()
            if rows:
                yield [RawSpan(SpanKey(*row[:3]), *row[3:]) for row in rows]

    def replace_view_columns(
        self, spans: Sequence[SpanKey], columns: dict[str, list[object]]
    ) -> None:
        table = pa.table(
            {
                "project": pa.array([key.project for key in spans], pa.string()),
                "trace_id": pa.array([key.trace_id for key in spans], pa.binary()),
                "span_id": pa.array([key.span_id for key in spans], pa.binary()),
            }
            | {name: pa.array(columns[name], _DERIVED_TYPES[name]) for name in DERIVED_COLUMNS}
        )
        sets = ", ".join(f"{name} = u.{name}" for name in DERIVED_COLUMNS)
        self._in_transaction(
            table,
            f"UPDATE spans SET {sets} FROM arrow_rows u WHERE spans.project = u.project"
            " AND spans.trace_id = u.trace_id AND spans.span_id = u.span_id",
        )

    def trace_id_chunks(self, size: int) -> Iterator[tuple[str, list[bytes]]]:
        """Every trace id with its project, up to ``size`` ids of one project at a time
        (keyset paging: no result set stays open)."""
        project, after = "", b""
        while True:
            rows = self._con.execute(
                "SELECT project, trace_id FROM traces"
                " WHERE project > $project OR (project = $project AND trace_id > $after)"
                " ORDER BY project, trace_id LIMIT $n",
                {"project": project, "after": after, "n": size},
            ).fetchall()
            if not rows:
                return
            for name, group in itertools.groupby(rows, key=lambda row: str(row[0])):
                yield name, [row[1] for row in group]
            project, after = rows[-1][0], rows[-1][1]

    def recompute_totals(self, project: str, trace_ids: list[bytes]) -> None:
        if not trace_ids:
            return
        rows = self._con.execute(
            f"SELECT {', '.join(TOTALS_SPAN_COLUMNS)} FROM spans"
            " WHERE project = $project AND trace_id = ANY($ids)",
            {"project": project, "ids": trace_ids},
        ).fetchall()
        totals = totals_by_trace(rows)
        table = pa.table(
            {
                "trace_id": pa.array(list(totals), pa.binary()),
                **{
                    name: pa.array(
                        [getattr(t, attr) for t in totals.values()], _TRACES_SCHEMA.field(name).type
                    )
                    for name, attr in _TOTALS_FIELDS.items()
                },
            }
        )
        sets = ", ".join(f"{name} = u.{name}" for name in _TOTALS_FIELDS)
        self._in_transaction(
            table,
            f"UPDATE traces SET {sets} FROM arrow_rows u"
            f" WHERE traces.project = {project_literal(project)} AND traces.trace_id = u.trace_id",
        )

    def _in_transaction(self, table: pa.Table, sql: str) -> None:
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            _execute_over(con, sql, table)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # -- API keys (model/keys.py; only hashes are stored: auth/keys.py) ----------------------------
    # Written on the writer thread (the server hands these to WritePipeline.call) or by a
    # process that owns the database alone (``tracepond keys --db``), like every other write.

    def insert_key(self, key: KeyRecord) -> None:
        self._check_writable()
        self._con.execute(_keys.INSERT_KEY, _keys.insert_params(key))

    def revoke_key(self, key_id: str, now_ns: int) -> bool:
        """Revoke key ``key_id``; False when there is no such key."""
        self._check_writable()
        return bool(self._con.execute(_keys.REVOKE_KEY, [now_ns, key_id]).fetchall())

    @_read
    def api_keys(self) -> list[KeyRecord]:
        return [_keys.record(row) for row in self._reader().execute(_keys.SELECT_KEYS).fetchall()]

    # -- reads (any thread) --------------------------------------------------------------------

    def _reader(self) -> Any:
        if self._closed:
            raise StorageUnavailable("store is closed")
        if self._invalidated:
            raise StorageUnavailable(f"the store is recovering from: {self._problem}")
        cursor = getattr(self._local, "cursor", None)
        if cursor is None or self._local.generation != self._generation:
            cursor = self._con.cursor()
            if self._query_memory_limit is not None:
                cursor.execute(f"SET operator_memory_limit = '{self._query_memory_limit}'")
            self._local.cursor, self._local.generation = cursor, self._generation
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    def _deadline(self) -> Deadline | None:
        return getattr(self._local, "deadline", None)

    @contextmanager
    def cancellable(self, deadline: Deadline) -> Iterator[None]:
        """Reads of this thread inside the block are interrupted when ``deadline`` is
        cancelled (``interrupt()`` on the thread's cursor, from whichever thread cancels)."""
        deadline.check()
        cursor = self._reader()
        forget = deadline.on_cancel(cursor.interrupt)
        self._local.deadline = deadline
        try:
            yield
        finally:
            forget()
            self._local.deadline = None
            if deadline.stopped:
                # An interrupt that came after the last statement may still be pending on the
                # cursor: the next read of this thread gets a fresh one.
                self._local.cursor = None
                with self._cursors_lock:
                    if cursor in self._cursors:
                        self._cursors.remove(cursor)
                cursor.close()

    def _records(self, sql: str, params: dict[str, Any]) -> list[SpanRecord]:
        cursor = self._reader().execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _summary_row(self, trace_id: bytes, project: str) -> tuple[Any, ...] | None:
        """The trace's summary row (``_SUMMARY_COLUMNS``, then its ingest window). Looked up
        by trace id alone, which DuckDB answers from the index on traces.trace_id (a second
        condition on the project made it scan the table), and the project picked here."""
        rows = (
            self._reader()
            .execute(
                f"SELECT project, {_SUMMARY_COLUMNS}, first_ingested_ns, last_ingested_ns"
                f" FROM traces WHERE trace_id = {blob_literal(trace_id)}"
            )
            .fetchall()
        )
        return next((tuple(row[1:]) for row in rows if row[0] == project), None)

    @_read
    def trace_spans(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> list[SpanRecord]:
        found = self.trace(trace_id, project=project)
        return found[1] if found else []

    @_read
    def trace(
        self, trace_id: bytes, columns: SpanColumns = "all", project: str = DEFAULT_PROJECT
    ) -> tuple[TraceSummary, list[SpanRecord]] | None:
        row = self._summary_row(trace_id, project)
        if row is None:
            return None
        *summary, first, last = row
        select = _TREE_SELECT if columns == "tree" else _SPAN_SELECT
        spans = self._records(f"{select} WHERE {in_trace(trace_id, (first, last), project)}", {})
        # Sorted here, not by an ORDER BY: DuckDB's sort costs ~1.5 ms even for a trace's
        # dozen rows, about a fifth of the whole fetch at 1M spans (bench/README.md).
        spans.sort(key=_start_order)
        return TraceSummary(*summary), spans

    @_read
    def traces(
        self,
        trace_ids: Sequence[bytes],
        columns: SpanColumns = "all",
        project: str = DEFAULT_PROJECT,
    ) -> list[tuple[TraceSummary, list[SpanRecord]]]:
        wanted = list(dict.fromkeys(trace_ids))
        if not wanted:
            return []
        cursor = self._reader()
        rows = cursor.execute(
            f"SELECT {_SUMMARY_COLUMNS}, first_ingested_ns, last_ingested_ns FROM traces"
            " WHERE project = $project AND trace_id = ANY($ids)",
            {"project": project, "ids": wanted},
        ).fetchall()
        if not rows:
            return []
        # One span statement over the union of the traces' ingest windows (zone maps prune
        # outside it), grouped here by trace.
        first, last = min(row[-2] for row in rows), max(row[-1] for row in rows)
        # Tree records do not hold the trace id: it is read alongside, and dropped.
        select = _TREE_SELECT_WITH_TRACE if columns == "tree" else _SPAN_SELECT
        spans = self._records(
            f"{select} WHERE ingested_ns BETWEEN $first AND $last"
            " AND project = $project AND trace_id = ANY($ids)",
            {"first": first, "last": last, "project": project, "ids": [row[0] for row in rows]},
        )
        by_trace: dict[bytes, list[SpanRecord]] = {row[0]: [] for row in rows}
        for record in spans:
            trace_id = record.pop("trace_id") if columns == "tree" else record["trace_id"]
            by_trace[trace_id].append(record)
        summaries = {row[0]: TraceSummary(*row[:-2]) for row in rows}
        found = []
        for trace_id in wanted:
            if trace_id in summaries:
                by_trace[trace_id].sort(key=_start_order)
                found.append((summaries[trace_id], by_trace[trace_id]))
        return found

    @_read
    def span(
        self, trace_id: bytes, span_id: bytes, project: str = DEFAULT_PROJECT
    ) -> SpanRecord | None:
        window = self._ingest_window(trace_id, project)
        if window is None:
            return None
        rows = self._records(
            f"{_SPAN_SELECT} WHERE {in_trace(trace_id, window, project)}"
            f" AND span_id = {blob_literal(span_id)}",
            {},
        )
        return rows[0] if rows else None

    @_read
    def _ingest_window(self, trace_id: bytes, project: str) -> tuple[int, int] | None:
        """When the trace's spans were committed. Passed to the span query as constants so that
        DuckDB prunes row groups by their ingested_ns zone maps (a subquery would not prune)."""
        rows = (
            self._reader()
            .execute(
                "SELECT project, first_ingested_ns, last_ingested_ns FROM traces"
                f" WHERE trace_id = {blob_literal(trace_id)}"
            )
            .fetchall()
        )
        return next(((int(r[1]), int(r[2])) for r in rows if r[0] == project), None)

    @_read
    def trace_summary(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> TraceSummary | None:
        row = self._summary_row(trace_id, project)
        return None if row is None else TraceSummary(*row[:-2])

    @_read
    def list_traces(
        self, limit: int, after: PageToken | None = None, project: str = DEFAULT_PROJECT
    ) -> TracePage:
        sql = f"SELECT {_SUMMARY_COLUMNS} FROM traces WHERE project = ?"
        params: list[Any] = [project]
        if after is not None:
            start_ns, trace_id = _tokens.trace_list_position(after)
            sql += " AND (start_ns < ? OR (start_ns = ? AND trace_id < ?))"
            params += [start_ns, start_ns, trace_id]
        sql += " ORDER BY start_ns DESC, trace_id DESC LIMIT ?"
        params.append(limit + 1)
        rows = self._reader().execute(sql, params).fetchall()
        traces = [TraceSummary(*row) for row in rows[:limit]]
        more = len(rows) > limit
        last = traces[-1] if more and traces else None
        token = None if last is None else _tokens.trace_list_token(last.start_ns, last.trace_id)
        return TracePage(traces=traces, next_cursor=token)

    # -- search, sessions, stats, skeletons (SQL in store/_search*.py, _sessions, _stats) ------

    @_read
    def search_traces(self, request: SearchRequest) -> SearchPage[TraceSummary]:
        return _search.search_traces(self._reader(), request)

    @_read
    def search_spans(self, request: SearchRequest) -> SearchPage[SpanRecord]:
        return _search.search_spans(self._reader(), request)

    @_read
    def sessions(
        self,
        limit: int,
        after: PageToken | None,
        since_ns: int | None,
        user_id: str | None,
        project: str = DEFAULT_PROJECT,
    ) -> SessionPage:
        position = None if after is None else _tokens.session_position(after)
        rows = _sessions.sessions(self._reader(), limit, position, since_ns, user_id, project)
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more and rows else None
        token = None if last is None else _tokens.session_token(last.last_seen_ns, last.session_id)
        return SessionPage(rows, token)

    @_read
    def session_traces(
        self, session_id: str, limit: int, project: str = DEFAULT_PROJECT
    ) -> list[TraceSummary]:
        return _sessions.session_traces(self._reader(), session_id, limit, project)

    @_read
    def stats(self, request: StatsRequest) -> list[StatsRow]:
        return _stats.stats(self._reader(), request)

    @_read
    def trace_stats(self, request: StatsRequest) -> list[StatsRow]:
        return _stats.trace_stats(self._reader(), request)

    @_read
    def skeleton_rows(
        self, trace_id: bytes, as_of: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[SpanRecord]:
        window = self._ingest_window(trace_id, project)
        if window is None:
            return []
        first, last = window
        return _skeleton.skeleton_rows(
            self._reader(), trace_id, (first, last if as_of is None else min(last, as_of)), project
        )

    @_read
    def trace_watermark(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> int | None:
        window = self._ingest_window(trace_id, project)
        return None if window is None else window[1]

    @_read
    def counts(self, project: str | None = None) -> tuple[int, int]:
        cursor = self._reader()
        if project is None:
            spans = _scalar(cursor, "SELECT count(*) FROM spans")
            traces = _scalar(cursor, "SELECT count(*) FROM traces")
            return int(spans), int(traces)
        # The summaries count each span once (duplicates are never stored): no span scan.
        rows = cursor.execute(
            "SELECT coalesce(sum(span_count), 0), count(*) FROM traces WHERE project = $p",
            {"p": project},
        ).fetchall()
        return int(rows[0][0]), int(rows[0][1])

    # -- Jaeger reads (store/_jaeger_sql.py) ---------------------------------------------------

    @_read
    def services(self, project: str = DEFAULT_PROJECT) -> list[str]:
        return _jaeger_sql.services(self._reader(), project)

    @_read
    def operations(
        self, service: str, kind: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[Operation]:
        return _jaeger_sql.operations(self._reader(), project, service, kind)

    @_read
    def find_trace_ids(self, query: TraceQuery, project: str = DEFAULT_PROJECT) -> list[bytes]:
        return _jaeger_sql.find_trace_ids(self._reader(), project, query)

    # -- projects (store/_projects.py) ---------------------------------------------------------

    @_read
    def projects_list(self) -> list[Project]:
        return _projects.list_projects(self._reader())

    @_read
    def projects_get(self, name: str) -> Project | None:
        return _projects.get_project(self._reader(), name)

    def projects_exists(self, name: str) -> bool:
        return _projects.project_exists(self._reader(), name)

    @_read
    def projects_create(
        self, name: str, description: str | None = None, retention_ns: int | None = None
    ) -> Project:
        # A statement of its own on the calling thread's cursor: the writer's transaction on
        # `spans` and `traces` never conflicts with a row of `projects`.
        return _projects.create_project(self._reader(), name, description, retention_ns)

    @_read
    def projects_set_retention(self, name: str, retention_ns: int | None) -> Project:
        return _projects.set_retention(self._reader(), name, retention_ns)

    def database_bytes(self) -> int | None:
        """The file and its WAL, as the file system counts them (blocks freed by a deletion
        stay in the file, to be reused)."""
        total = 0
        for path in (self.path, self.path.with_name(self.path.name + ".wal")):
            if path.exists():
                total += path.stat().st_size
        return total

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._loader is not None:
            self._loader.join()
        try:
            self._checkpoint_now()
        except duckdb.Error as exc:
            # Everything committed is in the WAL: the next start replays it.
            log.warning("checkpoint at close failed: %s", describe(exc))
        with contextlib.suppress(duckdb.Error):
            self._con.close()
