"""The store contract. Every store (DuckDB today, a scale-out engine later) honours it, and the
conformance suite in ``tests/store/conformance/`` checks it against each implementation.

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
    per-trace summary is kept current after every write.
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

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from tracepond.deadline import Deadline
from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.model.records import (
    SearchPage,
    SearchRequest,
    SpanColumns,
    SpanRecord,
    StatsRequest,
    StoreHealth,
    TracePage,
    TraceSummary,
    WriteResult,
)
from tracepond.model.spans import SpanBatch
from tracepond.projects import DEFAULT_PROJECT, Project


class SpanStore(Protocol):
    def write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        """Store all spans of ``batches`` in one durable, idempotent transaction."""
        ...

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

    def span(
        self, trace_id: bytes, span_id: bytes, project: str = DEFAULT_PROJECT
    ) -> SpanRecord | None:
        """One stored span with everything stored for it; None when unknown."""
        ...

    def trace_summary(self, trace_id: bytes, project: str = DEFAULT_PROJECT) -> TraceSummary | None:
        """The per-trace summary; None for an unknown trace."""
        ...

    def list_traces(
        self, limit: int, after: tuple[int, bytes] | None = None, project: str = DEFAULT_PROJECT
    ) -> TracePage:
        """Traces newest first (by start time, then trace id), ``limit`` at most, starting after
        the position ``after`` returned as ``next_cursor`` by the previous page."""
        ...

    # -- search, sessions, stats, skeletons (read-only; see docs/query.md) --------------------

    def search_traces(self, request: SearchRequest) -> SearchPage[TraceSummary]:
        """Traces matching the filters, sorted, one keyset page, with the capped match count."""
        ...

    def search_spans(self, request: SearchRequest) -> SearchPage[SpanRecord]:
        """Spans matching the filters (light columns and ``attributes_json``), paged."""
        ...

    def sessions(
        self,
        limit: int,
        after: tuple[int, str] | None,
        since_ns: int | None,
        user_id: str | None,
        project: str = DEFAULT_PROJECT,
    ) -> list[dict[str, Any]]:
        """Sessions, most recently seen first: one aggregate row each (``limit + 1`` rows at
        most, so the caller can tell whether there is a further page)."""
        ...

    def session_traces(
        self, session_id: str, limit: int, project: str = DEFAULT_PROJECT
    ) -> list[TraceSummary]:
        """The session's traces in start order (at most ``limit``)."""
        ...

    def stats(self, request: StatsRequest) -> list[dict[str, Any]]:
        """Span aggregates per (bucket, group): count, errors, latency quantiles, tokens, cost."""
        ...

    def trace_stats(self, request: StatsRequest) -> list[dict[str, Any]]:
        """Trace aggregates per (bucket, group), rows shaped as ``stats``'s, over the traces
        starting in [since_ns, until_ns) that trace search's filters select (bucketed by trace
        start): traces, traces with an error span, trace duration quantiles, and the traces'
        tokens and cost (leaf LLM calls only, as the summaries keep them). ``group_by="model"``
        counts a trace under every model of its summary (under None when it has none), and
        with a ``model`` filter only under that model."""
        ...

    def skeleton_rows(
        self, trace_id: bytes, as_of: int | None = None, project: str = DEFAULT_PROJECT
    ) -> list[SpanRecord]:
        """Every span of a trace without its payload (no JSON columns); [] when unknown.
        With ``as_of`` (a ``trace_watermark``), only the spans committed by then: pages of a
        trace that is still growing then all come from the same snapshot."""
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

    # -- database size -------------------------------------------------------------------------

    def database_bytes(self) -> int | None:
        """What the database takes on disk, in bytes (DuckDB: its file and WAL); None when the
        engine cannot say (/metrics then leaves the gauge out). Cheap: every scrape asks."""
        ...

    # -- projects ------------------------------------------------------------------------------

    def projects_create(
        self, name: str, description: str | None = None, retention_ns: int | None = None
    ) -> Project:
        """Create a project (``ProjectExists`` when it does); any thread."""
        ...

    def projects_list(self) -> list[Project]:
        """Every project, by name, with its span and trace counts."""
        ...

    def projects_get(self, name: str) -> Project | None:
        """One project with its counts; None when it does not exist."""
        ...

    def projects_exists(self, name: str) -> bool:
        """Whether the project exists (cheap: ingest asks it for names it has not seen)."""
        ...

    def projects_set_retention(self, name: str, retention_ns: int | None) -> Project:
        """Set (None: clear) a project's retention; ``ProjectNotFound`` when it does not exist.
        The store only keeps it: the retention task reads it."""
        ...

    def cancellable(self, deadline: Deadline) -> AbstractContextManager[None]:
        """Reads of the calling thread inside this block stop when ``deadline`` is cancelled
        (see the contract above); raises at once when it already is."""
        ...

    def commit_room(self) -> int | None:
        """How many spans the next ``write`` should hold at most, for the store's housekeeping
        (DuckDB: to end on a row-group boundary before a checkpoint); None: any number. A hint
        only: the writer still writes a larger batch on its own."""
        ...

    def checkpoint(self) -> None:
        """Optional housekeeping the writer runs when idle; must not change what reads return."""
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
