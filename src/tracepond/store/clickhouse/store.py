"""The ClickHouse store (see ``store/contract.py`` for the contract and docs/clickhouse.md for
the design): every receiver opens its own; any number of them may write one database at once."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from tracepond.deadline import Deadline
from tracepond.errors import StorageUnavailable, StoreReadError, TracepondError
from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.model.keys import KeyRecord
from tracepond.model.records import (
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
from tracepond.model.spans import SpanBatch
from tracepond.projects import DEFAULT_PROJECT, Project
from tracepond.store import _tokens
from tracepond.store.clickhouse import (
    _admin,
    _jaeger,
    _maintenance,
    _reads,
    _reindex,
    _search,
    _sessions,
    _stats,
)
from tracepond.store.clickhouse._connection import Target, parse_url
from tracepond.store.clickhouse._errors import describe, read_error, write_error
from tracepond.store.clickhouse._migrate import migrate
from tracepond.store.clickhouse._session import Sessions
from tracepond.store.clickhouse._writer import Writer

log = logging.getLogger(__name__)
# The deepest level a descendant walk (``>>``) follows. ClickHouse's default is 1,000; each
# level is one more round of the recursion (milliseconds each), and ClickHouse does not stop a
# recursion at its time limit, so the depth is what bounds the walk's time: deeper is refused
# with 400 query_too_complex (DuckDB's walk has no such bound, only its time limit).
MAX_TREE_DEPTH = 2_000

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _read(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """A read: checks the thread's deadline first and turns every failure into the contract's
    errors (QueryTimeout, QueryCancelled, QueryMemoryLimit, StoreReadError)."""

    @functools.wraps(method)
    def read(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        store: ClickHouseStore = args[0]  # type: ignore[assignment]
        deadline = store._sessions.deadline()
        if deadline is not None:
            deadline.check()
        try:
            return method(*args, **kwargs)
        except TracepondError:
            raise
        except Exception as exc:
            error = read_error(exc, deadline)
            if isinstance(error, StoreReadError | StorageUnavailable):
                log.warning("a read failed in ClickHouse", exc_info=True)
            raise error from exc

    return read


def _mapped(chunks: Iterator[_R]) -> Iterator[_R]:
    """``chunks``, with an engine failure while reading them raised as the contract's error."""
    try:
        yield from chunks
    except TracepondError:
        raise
    except Exception as exc:
        raise read_error(exc, None) from exc


class ClickHouseStore:
    """The store contract over ClickHouse (a server, a cluster, or chdb in-process)."""

    # Full text has an n-gram skip index; merges are the engine's own (no housekeeping);
    # deleting traces shrinks the active parts system.parts counts (a size budget works); the
    # server-wide retention can be a TTL dropping whole day partitions.
    capabilities = StoreCapabilities(
        indexed_full_text=True, housekeeping=False, size_budget=True, ttl_retention=True
    )

    def __init__(
        self,
        target: Target,
        *,
        cluster: str | None = None,
        insert_quorum: int | str | None = None,
        ttl_days: int | None = None,
        max_execution_time: float | None = None,
        max_memory_usage: int | None = None,
    ) -> None:
        """``cluster``: create replicated tables with Distributed tables over them on that
        cluster; ``insert_quorum``: replicas that must acknowledge an insert (``"auto"``: a
        majority) before a write returns; ``ttl_days``: drop spans and summaries that many days
        after they ended (whole parts); ``max_execution_time`` (seconds) and
        ``max_memory_usage`` (bytes): limits of each read."""
        self.target = target
        self.database = target.database
        self.cluster = cluster
        read_settings: dict[str, Any] = {"max_recursive_cte_evaluation_depth": MAX_TREE_DEPTH}
        if max_execution_time is not None:
            read_settings["max_execution_time"] = max_execution_time
        if max_memory_usage is not None:
            read_settings["max_memory_usage"] = max_memory_usage
        self._sessions = Sessions(target, read_settings)
        # Synchronous inserts: ClickHouse acknowledges once the data is in its parts.
        insert_settings: dict[str, Any] = {"async_insert": 0, "input_format_null_as_default": 0}
        consistent: dict[str, Any] = {}
        if cluster:
            insert_settings["distributed_foreground_insert"] = 1
        if insert_quorum is not None:
            insert_settings["insert_quorum"] = insert_quorum
            consistent["select_sequential_consistency"] = 1
        self._insert_settings = insert_settings
        self._problem: str | None = None
        try:
            writer_client = self._sessions.new_client()
            self.schema_version = migrate(writer_client, self.database, cluster, ttl_days)
        except TracepondError:
            self._sessions.close()
            raise
        except Exception as exc:
            self._sessions.close()
            raise TracepondError(f"cannot open ClickHouse store: {describe(exc)}") from exc
        self._writer = Writer(writer_client, self.database, insert_settings, consistent)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> ClickHouseStore:
        """``clickhouse://user:password@host:8123/database``, ``clickhouses://…`` (TLS) or
        ``chdb:///path/to/dir``; ``options`` as for the constructor."""
        return cls(parse_url(url), **options)

    # -- writes --------------------------------------------------------------------------------

    def write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        if self._sessions.closed:
            raise StorageUnavailable("store is closed")
        try:
            result = self._writer.write(batches)
        except Exception as exc:
            error = write_error(exc)
            if isinstance(error, StorageUnavailable):
                self._problem = describe(exc)
                log.warning("the store cannot write: %s", self._problem)
            raise error from exc
        self._problem = None
        return result

    def commit_room(self) -> int | None:
        return None

    def checkpoint(self) -> None:
        """Nothing to do: ClickHouse merges parts in the background."""

    def health(self) -> StoreHealth:
        if self._sessions.closed:
            return StoreHealth("closed", "the store is closed")
        return StoreHealth("failing", self._problem) if self._problem else StoreHealth("ok")

    def recover(self) -> bool:
        if self._sessions.closed:
            return False
        if self._problem is None:
            return True
        try:
            # The tables writes need are there and answer.
            self._writer.client.query(f"SELECT count() FROM {self.database}.spans WHERE 0")
        except Exception as exc:
            self._problem = describe(exc)
            return False
        self._problem = None
        return True

    def close(self) -> None:
        if self._sessions.closed:
            return
        with self._writer.lock:
            self._sessions.close()

    # -- reads ---------------------------------------------------------------------------------

    def _client(self) -> Any:
        return self._sessions.reader()

    @contextmanager
    def cancellable(self, deadline: Deadline) -> Iterator[None]:
        with self._sessions.cancellable(deadline):
            yield

    @_read
    def trace_spans(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> list[SpanRecord]:
        found = _reads.trace(self._client(), self.database, trace_id, "all", project)
        return found[1] if found else []

    @_read
    def trace(
        self, trace_id: bytes, columns: SpanColumns = "all", project: str = DEFAULT_PROJECT
    ) -> tuple[TraceSummary, list[SpanRecord]] | None:
        return _reads.trace(self._client(), self.database, trace_id, columns, project)

    @_read
    def traces(
        self,
        trace_ids: Sequence[bytes],
        columns: SpanColumns = "all",
        project: str = DEFAULT_PROJECT,
    ) -> list[tuple[TraceSummary, list[SpanRecord]]]:
        return _reads.traces(self._client(), self.database, trace_ids, columns, project)

    @_read
    def span(
        self, trace_id: bytes, span_id: bytes, project: str = DEFAULT_PROJECT
    ) -> SpanRecord | None:
        return _reads.span(self._client(), self.database, trace_id, span_id, project)

    @_read
    def trace_summary(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> TraceSummary | None:
        found = _reads.locate(self._client(), self.database, trace_id, project)
        return None if found is None else found.summary

    @_read
    def list_traces(
        self, limit: int, after: PageToken | None = None, project: str = DEFAULT_PROJECT
    ) -> TracePage:
        return _reads.list_traces(self._client(), self.database, limit, after, project)

    @_read
    def search_traces(self, request: SearchRequest) -> SearchPage[TraceSummary]:
        return _search.search_traces(self._client(), self.database, request)

    @_read
    def search_spans(self, request: SearchRequest) -> SearchPage[SpanRecord]:
        return _search.search_spans(self._client(), self.database, request)

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
        rows = _sessions.sessions(
            self._client(), self.database, limit, position, since_ns, user_id, project
        )
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if more and rows else None
        token = None if last is None else _tokens.session_token(last.last_seen_ns, last.session_id)
        return SessionPage(rows, token)

    @_read
    def session_traces(
        self, session_id: str, limit: int, project: str = DEFAULT_PROJECT
    ) -> list[TraceSummary]:
        return _sessions.session_traces(self._client(), self.database, session_id, limit, project)

    @_read
    def stats(self, request: StatsRequest) -> list[StatsRow]:
        return _stats.stats(self._client(), self.database, request)

    @_read
    def trace_stats(self, request: StatsRequest) -> list[StatsRow]:
        return _stats.trace_stats(self._client(), self.database, request)

    @_read
    def skeleton_rows(
        self, trace_id: bytes, as_of: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[SpanRecord]:
        return _reads.skeleton_rows(self._client(), self.database, trace_id, as_of, project)

    @_read
    def trace_watermark(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> int | None:
        found = _reads.locate(self._client(), self.database, trace_id, project)
        return None if found is None else found.last_ingested

    @_read
    def counts(self, project: str | None = None) -> tuple[int, int]:
        return _reads.counts(self._client(), self.database, project)

    # -- Jaeger reads (_jaeger.py) -------------------------------------------------------------

    @_read
    def services(self, project: str = DEFAULT_PROJECT) -> list[str]:
        return _jaeger.services(self._client(), self.database, project)

    @_read
    def operations(
        self, service: str, kind: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[Operation]:
        return _jaeger.operations(self._client(), self.database, project, service, kind)

    @_read
    def find_trace_ids(self, query: TraceQuery, project: str = DEFAULT_PROJECT) -> list[bytes]:
        return _jaeger.find_trace_ids(self._client(), self.database, project, query)

    # -- projects ------------------------------------------------------------------------------

    @_read
    def projects_create(
        self, name: str, description: str | None = None, retention_ns: int | None = None
    ) -> Project:
        return _admin.create_project(self._client(), self.database, name, description, retention_ns)

    @_read
    def projects_list(self) -> list[Project]:
        return _admin.list_projects(self._client(), self.database)

    @_read
    def projects_get(self, name: str) -> Project | None:
        return _admin.get_project(self._client(), self.database, name)

    @_read
    def projects_exists(self, name: str) -> bool:
        return _admin.project_exists(self._client(), self.database, name)

    @_read
    def projects_set_retention(self, name: str, retention_ns: int | None) -> Project:
        return _admin.set_retention(self._client(), self.database, name, retention_ns)

    # -- API keys ------------------------------------------------------------------------------

    def insert_key(self, key: KeyRecord) -> None:
        self._maintain(lambda c: _admin.insert_key(c, self.database, key, self._insert_settings))

    def revoke_key(self, key_id: str, now_ns: int) -> bool:
        return self._maintain(
            lambda c: _admin.revoke_key(c, self.database, key_id, now_ns, self._insert_settings)
        )

    @_read
    def api_keys(self) -> list[KeyRecord]:
        return _admin.api_keys(self._client(), self.database)

    # -- deletion, retention, sizes ------------------------------------------------------------

    def _maintain(self, task: Callable[[Any], _R]) -> _R:
        """Run a writing task on the writer's client; failures as ``write`` raises them."""
        if self._sessions.closed:
            raise StorageUnavailable("store is closed")
        try:
            with self._writer.lock:
                return task(self._writer.client)
        except Exception as exc:
            raise write_error(exc) from exc

    def delete_traces(
        self, project: str, trace_ids: list[bytes], ended_before: int | None = None
    ) -> int:
        """Delete these traces of ``project`` whole (spans and summary); ids not stored there
        are ignored; with ``ended_before``, only those whose spans all ended before it."""
        if not trace_ids:
            return 0

        def task(client: Any) -> int:
            found = _maintenance.located(client, self.database, project, trace_ids, ended_before)
            if found:
                _maintenance.delete(client, self.database, self.cluster, project, found)
            return len(found)

        return self._maintain(task)

    def drop_unused_origins(self) -> int:
        dropped = self._maintain(
            lambda c: _maintenance.drop_unused_origins(c, self.database, self.cluster)
        )
        self._writer.forget_origins(dropped)
        return len(dropped)

    @_read
    def expired_trace_ids(self, project: str, ended_before: int, limit: int) -> list[bytes]:
        return _maintenance.expired(self._client(), self.database, project, ended_before, limit)

    @_read
    def oldest_trace_ids(self, limit: int) -> list[tuple[str, bytes]]:
        return _maintenance.oldest(self._client(), self.database, limit)

    @_read
    def project_retentions(self) -> dict[str, int | None]:
        return _admin.retentions(self._client(), self.database)

    @_read
    def used_bytes(self) -> int:
        return _maintenance.used_bytes(self._client(), self.database)

    def database_bytes(self) -> int | None:
        """The active parts' bytes on disk (system.parts, of this node)."""
        return self.used_bytes()

    # -- reindexing (_reindex.py): by key, new row versions, no mutation ------------------------

    def raw_span_chunks(self, size: int) -> Iterator[list[RawSpan]]:
        return _mapped(_reindex.raw_span_chunks(self._client(), self.database, size))

    def replace_view_columns(
        self, spans: Sequence[SpanKey], columns: dict[str, list[object]]
    ) -> None:
        self._maintain(
            lambda c: _reindex.replace_view_columns(
                c, self.database, spans, columns, self._insert_settings
            )
        )

    def trace_id_chunks(self, size: int) -> Iterator[tuple[str, list[bytes]]]:
        return _mapped(_reindex.trace_id_chunks(self._client(), self.database, size))

    def recompute_totals(self, project: str, trace_ids: list[bytes]) -> None:
        if not trace_ids:
            return
        try:
            self._writer.recompute(project, trace_ids)
        except Exception as exc:
            raise write_error(exc) from exc
