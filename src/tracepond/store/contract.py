"""The store contract. Every store (DuckDB, ClickHouse) honours it, and the conformance suite in
``tests/store/conformance/`` checks it against each implementation.

Shape
-----
Three parts, in the manner of Jaeger v2's ``tracestore`` reader and writer:

* ``SpanWriter``: span writes, the project catalog's writes, health, recovery, close;
* ``SpanReader``: every read (traces, spans, search, sessions, stats, skeletons, projects,
  API keys) and ``cancellable``;
* ``StoreMaintenance``: what retention, deletion, reindexing, key administration and the
  writer's housekeeping need.

A store is one object implementing all three (``Store``) and declaring its
``StoreCapabilities``; every user is typed against the narrowest part it calls (the write
pipeline: ``SpanWriter``, plus ``StoreMaintenance`` for housekeeping when the store declares
it; the query service: ``SpanReader``; retention: ``SpanReader`` and ``StoreMaintenance``).

Records are typed (``model/records.py``): summaries, session and stats rows are frozen
dataclasses; a span record is a dict whose keys are fixed per read (``SpanRecord``). Page
positions are opaque ``PageToken``s the store encodes and decodes (``store/_tokens.py``):
callers pass the token a page returned back unchanged, and a token that is not the store's,
or not of this read, raises ``InvalidRequest``.

Engine-neutral rules (which copy of a duplicated span wins, how per-trace summaries merge,
leaf-only token totals) live in ``store/_rules.py`` and ``model/summary.py``; a store applies
them at write time or computes the same result at read time.

Contract
--------
Writes
  * ``write`` takes any number of span batches (Arrow rows with the columns of
    ``model.spans.SPAN_COLUMNS``, and their per-trace partial summaries) and stores them in ONE
    transaction: either every span is stored or none is.
  * A batch's ``origins`` map each ``origin_id`` of its rows to that origin's resource and scope
    JSON. A store may keep them once per origin; what it reads back is the same either way.
  * Writes are idempotent. A span is identified by ``(project, trace_id, span_id)``; writing a
    span that is already stored (an exporter retrying) changes nothing, and is not counted again
    in the trace summary. Within one call the first copy of a duplicated span wins.
  * A write is durable when ``write`` returns: the data is in the database file (its write-ahead
    log) and survives the process being killed. Receivers acknowledge a request only after that.
  * Spans of one trace may arrive over many writes, in any order (children before parents); the
    per-trace summary is kept current after every write, and depends only on which spans are
    stored, never on their order of arrival (several receivers must agree): its root is the
    earliest-starting parentless span, ties broken by the smallest span id; until a root is
    stored, its name and service are those of the earliest-starting span (same tie-break) and
    ``root_span_id`` is None (``model.summary.head_key``).
  * A failed write stored nothing and raises ``StorageUnavailable`` when retrying later can
    succeed (a full disk, memory, a store recovering) or ``StorageRejected`` when it cannot (the
    data itself: a value the store cannot convert, a constraint).
  * A store that cannot write says so in ``health`` and gets itself writing again when the
    writer calls ``recover`` (DuckDB: reopening an invalidated database, replaying its WAL),
    with nothing committed lost.
Projects
  * Every span and trace summary belongs to one project (``SpanBatch.project``); a trace is
    identified by ``(project, trace_id)``: the same trace id written into two projects makes two
    traces, each with its own spans, summary and duplicate detection.
  * Every read is within one project (the ``project`` argument, or ``Filters.project``): no
    read returns, counts or aggregates anything of another project. ``default`` always exists.
Reads
  * Reads run concurrently with writes and see only committed data.
  * An unknown trace or span is an empty result (``[]`` / ``None``), never an exception; the
    query layer turns it into 404.
  * Ids are raw bytes in the store interface (16-byte trace ids, 8-byte span ids); hex is the
    API's business.
  * Reads made inside ``with store.cancellable(deadline):`` stop when the deadline is cancelled
    (its time is up, or the client went away), a running statement included, and raise
    ``QueryTimeout`` or ``QueryCancelled``. A read that needs more memory than the store allows
    raises ``QueryMemoryLimit``; any other failure of the engine ``StoreReadError``: no
    engine-specific exception leaves a read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from tracepond.deadline import Deadline
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


class ProjectWriter(Protocol):
    """The project catalog's writes (any thread: they never conflict with span writes)."""

    def projects_create(
        self, name: str, description: str | None = None, retention_ns: int | None = None
    ) -> Project:
        """Create a project (``ProjectExists`` when it does)."""
        ...

    def projects_set_retention(self, name: str, retention_ns: int | None) -> Project:
        """Set (None: clear) a project's retention; ``ProjectNotFound`` when it does not exist.
        The store only keeps it: the retention task reads it."""
        ...


class SpanWriter(ProjectWriter, Protocol):
    def write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        """Store all spans of ``batches`` in one durable, idempotent transaction."""
        ...

    def health(self) -> StoreHealth:
        """Whether writes can succeed now (any thread; cheap: health probes call it)."""
        ...

    def recover(self) -> bool:
        """(The writer thread.) Try to get a store whose health is not ``ok`` writing again;
        returns whether it can write now. Never raises."""
        ...

    def close(self) -> None:
        """Release the database. Writes after close raise StorageUnavailable."""
        ...


class SpanReader(Protocol):
    def trace_spans(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> list[SpanRecord]:
        """Every stored span of a trace, ordered by start time; [] for an unknown trace."""
        ...

    def trace(
        self, trace_id: bytes, columns: SpanColumns = "all", project: str = DEFAULT_PROJECT
    ) -> tuple[TraceSummary, list[SpanRecord]] | None:
        """The summary and every stored span of a trace (by start time); None when unknown.

        ``columns="tree"``: each record holds only ``TREE_COLUMNS`` (what a tree node shows),
        which is cheaper to read; ``"all"``: everything stored, as ``span`` returns it."""
        ...

    def traces(
        self,
        trace_ids: Sequence[bytes],
        columns: SpanColumns = "all",
        project: str = DEFAULT_PROJECT,
    ) -> list[tuple[TraceSummary, list[SpanRecord]]]:
        """Several traces in one read, each as ``trace`` returns it, in the order of
        ``trace_ids`` (an id given twice is returned once); unknown ids are left out."""
        ...

    def span(
        self, trace_id: bytes, span_id: bytes, project: str = DEFAULT_PROJECT
    ) -> SpanRecord | None:
        """One stored span with everything stored for it; None when unknown."""
        ...

    def trace_summary(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> TraceSummary | None:
        """The per-trace summary; None for an unknown trace."""
        ...

    def list_traces(
        self, limit: int, after: PageToken | None = None, project: str = DEFAULT_PROJECT
    ) -> TracePage:
        """Traces newest first (by start time, then trace id), ``limit`` at most, starting after
        the page whose ``next_cursor`` is ``after``."""
        ...

    # -- search, sessions, stats, skeletons (read-only; see docs/query.md) --------------------

    def search_traces(self, request: SearchRequest) -> SearchPage[TraceSummary]:
        """Traces matching the filters, sorted, one keyset page, with the capped match count."""
        ...

    def search_spans(self, request: SearchRequest) -> SearchPage[SpanRecord]:
        """Spans matching the filters (``SPAN_HIT_COLUMNS``), paged."""
        ...

    def sessions(
        self,
        limit: int,
        after: PageToken | None,
        since_ns: int | None,
        user_id: str | None,
        project: str = DEFAULT_PROJECT,
    ) -> SessionPage:
        """Sessions, most recently seen first (then by session id, descending): ``limit`` at
        most, after the page whose ``next_after`` is ``after``."""
        ...

    def session_traces(
        self, session_id: str, limit: int, project: str = DEFAULT_PROJECT
    ) -> list[TraceSummary]:
        """The session's traces in start order (at most ``limit``)."""
        ...

    def stats(self, request: StatsRequest) -> list[StatsRow]:
        """Span aggregates per (bucket, group): count, errors, latency quantiles, tokens, cost;
        by bucket, then group (None first). Quantiles in bounded memory: exact (interpolated
        between the closest ranks) over a cell of at most ``QUANTILE_SAMPLE`` (10,000) rows;
        over a larger cell of n, those of its rows whose hash of their identity falls in the
        lowest QUANTILE_SAMPLE / n of the hash range, the same rows at every call
        (``store/_stats.py``; docs/query.md)."""
        ...

    def trace_stats(self, request: StatsRequest) -> list[StatsRow]:
        """Trace aggregates per (bucket, group), rows shaped as ``stats``'s, over the traces
        starting in [since_ns, until_ns) that trace search's filters select (bucketed by trace
        start): traces, traces with an error span, trace duration quantiles, and the traces'
        tokens and cost (leaf LLM calls only, as the summaries keep them). ``group_by="model"``
        counts a trace under every model of its summary (under None when it has none), and
        with a ``model`` filter only under that model. Quantiles by ``stats``'s rule, a trace's
        identity being its trace id."""
        ...

    def skeleton_rows(
        self, trace_id: bytes, as_of: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[SpanRecord]:
        """Every span of a trace without its payload (``model.skeleton.COLUMNS``); [] when
        unknown. With ``as_of`` (a ``trace_watermark``), only the spans committed by then:
        pages of a trace that is still growing then all come from the same snapshot."""
        ...

    def trace_watermark(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> int | None:
        """When the trace's newest span was committed (an opaque, increasing ingest time for
        ``skeleton_rows``'s ``as_of``); None for an unknown trace."""
        ...

    def counts(self, project: str | None = None) -> tuple[int, int]:
        """(spans stored, traces stored): of one project, or of all (None)."""
        ...

    # -- Jaeger reads (the Jaeger-compatible API; model/jaeger.py) -----------------------------

    def services(self, project: str = DEFAULT_PROJECT) -> list[str]:
        """The service names of the project's spans, distinct, sorted."""
        ...

    def operations(
        self, service: str, kind: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[Operation]:
        """The distinct (span name, span kind) pairs of one service's spans, by name then
        kind; with ``kind``, only the spans of that kind. [] for an unknown service."""
        ...

    def find_trace_ids(self, query: TraceQuery, project: str = DEFAULT_PROJECT) -> list[bytes]:
        """Ids of the traces with a span matching every condition of ``query`` (see
        ``TraceQuery``), most recent first (by their latest matching span's start, then trace id,
        both descending), ``query.limit`` at most."""
        ...

    # -- projects and API keys -----------------------------------------------------------------

    def projects_list(self) -> list[Project]:
        """Every project, by name, with its span and trace counts."""
        ...

    def projects_get(self, name: str) -> Project | None:
        """One project with its counts; None when it does not exist."""
        ...

    def projects_exists(self, name: str) -> bool:
        """Whether the project exists (cheap: ingest asks it for names it has not seen)."""
        ...

    def api_keys(self) -> list[KeyRecord]:
        """Every API key record (hashes only), revoked ones included."""
        ...

    def cancellable(self, deadline: Deadline) -> AbstractContextManager[None]:
        """Reads of the calling thread inside this block stop when ``deadline`` is cancelled
        (see the contract above); raises at once when it already is."""
        ...


class StoreMaintenance(Protocol):
    """Housekeeping, retention, deletion, reindexing and key administration. Writes here run
    where span writes run (the pipeline's writer thread, or a process owning the database)."""

    # -- housekeeping (called only when ``capabilities.housekeeping``) -------------------------

    def commit_room(self) -> int | None:
        """How many spans the next ``write`` should hold at most, for the store's housekeeping
        (DuckDB: to end on a row-group boundary before a checkpoint); None: any number. A hint
        only: the writer still writes a larger batch on its own."""
        ...

    def checkpoint(self) -> None:
        """Housekeeping the writer runs when idle, and retention after a purge (so that
        ``used_bytes`` sees the space freed); must not change what reads return. A no-op for a
        store without housekeeping."""
        ...

    # -- retention and deletion ----------------------------------------------------------------

    def delete_traces(
        self, project: str, trace_ids: list[bytes], ended_before: int | None = None
    ) -> int:
        """Delete these traces of ``project`` whole (spans and summary), atomically; ids not
        stored there are ignored. With ``ended_before``, only those whose spans all ended
        before it (expiry). Returns how many were deleted. Raises StorageUnavailable like
        ``write``."""
        ...

    def drop_unused_origins(self) -> int:
        """Forget stored resources and scopes no span refers to any more (after deletions);
        how many. A store that keeps them inline returns 0."""
        ...

    def expired_trace_ids(self, project: str, ended_before: int, limit: int) -> list[bytes]:
        """Up to ``limit`` of the project's traces whose spans all ended before
        ``ended_before``, oldest first."""
        ...

    def oldest_trace_ids(self, limit: int) -> list[tuple[str, bytes]]:
        """The ``limit`` oldest traces (by start) of every project, as (project, trace id)."""
        ...

    def project_retentions(self) -> dict[str, int | None]:
        """Each project's own retention in nanoseconds (None: the server-wide one)."""
        ...

    def used_bytes(self) -> int:
        """What the data takes on disk now, as a size budget counts it (see
        ``capabilities.size_budget``)."""
        ...

    def database_bytes(self) -> int | None:
        """What the database takes on disk, in bytes (DuckDB: its file and WAL); None when the
        engine cannot say (/metrics then leaves the gauge out). Cheap: every scrape asks."""
        ...

    # -- reindexing (offline: ``tracepond reindex``), by span and trace key --------------------

    def raw_span_chunks(self, size: int) -> Iterator[list[RawSpan]]:
        """Every stored span's key with the raw values its view is derived from, in chunks of
        at most ``size`` spans (memory stays bounded); each span exactly once."""
        ...

    def replace_view_columns(
        self, spans: Sequence[SpanKey], columns: dict[str, list[object]]
    ) -> None:
        """Overwrite the derived columns (``DERIVED_COLUMNS``: one list each, in the order of
        ``spans``) of these spans, atomically."""
        ...

    def trace_id_chunks(self, size: int) -> Iterator[tuple[str, list[bytes]]]:
        """Every stored trace as (project, up to ``size`` trace ids of it), each trace once."""
        ...

    def recompute_totals(self, project: str, trace_ids: list[bytes]) -> None:
        """Recompute the totals of these traces' summaries (leaf-only tokens, cost, models,
        session, user, step counts: ``conventions.totals_by_trace``) from their stored spans."""
        ...

    # -- API keys (model/keys.py; only hashes are stored: auth/keys.py) ------------------------

    def insert_key(self, key: KeyRecord) -> None:
        """Store a new key record."""
        ...

    def revoke_key(self, key_id: str, now_ns: int) -> bool:
        """Revoke key ``key_id``; False when there is no such key."""
        ...


class Store(SpanWriter, SpanReader, StoreMaintenance, Protocol):
    """A whole store: what opening one gives (``DuckDBStore``, the ClickHouse store)."""

    @property
    def capabilities(self) -> StoreCapabilities: ...


def housekeeping(store: Store) -> StoreMaintenance | None:
    """The store's maintenance for the write pipeline's housekeeping (``commit_room``, idle
    ``checkpoint``), or None when the store declares none."""
    return store if store.capabilities.housekeeping else None
