"""Deleting traces: by id, or every trace a search matches, in short transactions.

Every batch is one transaction on the writer thread (``WritePipeline.run_on_writer``), so a
batch is deleted whole or not at all, commits keep their turn between batches, and what a batch
deleted survives a crash (it is in the WAL once committed). A deletion by search that is
stopped midway (a crash, a shutdown) has deleted some batches and not the others: the caller
sees it fail and runs it again; deleting is idempotent, so the second run deletes the rest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeVar

from tracepond.model.filters import Filters
from tracepond.model.records import SearchRequest
from tracepond.store.contract import SpanReader, StoreMaintenance

log = logging.getLogger("tracepond.retention")

# Traces per transaction. A batch of 100 traces of ~5 spans held the writer for 10-40 ms in a
# probe on this 2-core VM (bench/README.md, "Retention"): short beside a commit's checkpoint.
BATCH_TRACES: Final = 100
# Why traces were deleted: the label of tracepond_traces_purged_total.
REASONS: Final = ("retention", "size", "request")

_T = TypeVar("_T")


class WriterQueue(Protocol):
    """Where writes run: the ingest pipeline's writer thread (ingest/pipeline.py)."""

    def run_on_writer(self, task: Callable[[], _T]) -> Future[_T]: ...


class DeletingStore(SpanReader, StoreMaintenance, Protocol):
    """What retention and deletion use of a store: its reads (searches pick what a deletion
    deletes) and its maintenance (deleting, expiring, measuring)."""


@dataclass
class PurgeCounts:
    """Traces deleted so far, by reason (read by /metrics)."""

    by_reason: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reason: str, count: int) -> None:
        with self.lock:
            self.by_reason[reason] = self.by_reason.get(reason, 0) + count

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.by_reason)


@dataclass(frozen=True)
class Requester:
    """Who asked for a deletion, for its log line. ``key_name`` is None while auth is off."""

    key_name: str | None = None
    project: str | None = None


class TraceDeleter:
    """Deletes traces through the writer thread; thread-safe, blocking (call it off the event
    loop)."""

    def __init__(
        self, store: DeletingStore, writer: WriterQueue, counts: PurgeCounts | None = None
    ) -> None:
        self.store = store
        self._writer = writer
        self.counts = counts or PurgeCounts()

    def on_writer(self, task: Callable[[], _T]) -> _T:
        return self._writer.run_on_writer(task).result()

    def delete_batch(
        self,
        project: str,
        trace_ids: list[bytes],
        reason: str,
        ended_before: int | None = None,
    ) -> int:
        """One transaction: the project's stored traces among ``trace_ids`` (expired ones only
        when ``ended_before`` is given)."""
        deleted = self.on_writer(lambda: self.store.delete_traces(project, trace_ids, ended_before))
        self.counts.add(reason, deleted)
        return deleted

    def drop_unused_origins(self) -> None:
        self.on_writer(self.store.drop_unused_origins)

    def delete_trace(self, project: str, trace_id: bytes, requester: Requester) -> int:
        deleted = self.delete_batch(project, [trace_id], "request")
        if deleted:
            self.drop_unused_origins()
        _log_request(requester, f"trace_id={trace_id.hex()}", deleted)
        return deleted

    def delete_matching(self, filters: Filters, requester: Requester, described: str) -> int:
        """Delete every trace the search ``filters`` matches now (``/api/traces``' own
        compilation of filters and query language, so it deletes exactly what that search
        lists). Traces that start to match later are not deleted. Returns the count."""
        log.info(
            "deletion started: key=%s project=%s query=%s",
            requester.key_name,
            requester.project,
            described,
        )
        deleted = 0
        request = SearchRequest(filters, descending=False, limit=BATCH_TRACES, count_cap=0)
        try:
            while True:
                page = self.store.search_traces(request)
                ids = [summary.trace_id for summary in page.rows]
                if ids:
                    deleted += self.delete_batch(filters.project, ids, "request")
                if page.next_after is None:
                    break
                request = SearchRequest(
                    filters,
                    descending=False,
                    limit=BATCH_TRACES,
                    after=page.next_after,
                    count_cap=0,
                )
        except Exception:
            log.warning(
                "deletion stopped after %d traces (run it again to delete the rest):"
                " key=%s project=%s query=%s",
                deleted,
                requester.key_name,
                requester.project,
                described,
            )
            raise
        if deleted:
            self.drop_unused_origins()
        _log_request(requester, described, deleted)
        return deleted


def _log_request(requester: Requester, described: str, deleted: int) -> None:
    log.info(
        "deleted %d traces: key=%s project=%s query=%s",
        deleted,
        requester.key_name,
        requester.project,
        described,
        extra={"deleted": deleted, "key": requester.key_name, "project": requester.project},
    )


def describe_filters(filters: Filters, query_text: str | None = None) -> str:
    """The filters that are set, for a log line (the query language as the user wrote it)."""
    parts: list[str] = []
    for name, value in vars(filters).items():
        if value is None or value == ():
            continue
        if name == "query":
            parts.append(f"q={query_text!r}" if query_text else "q=<query>")
        else:
            parts.append(f"{name}={value!r}")
    return " ".join(parts) or "<every trace>"


class InlineWriter:
    """Runs writes on the calling thread: for the store opened by the CLI with no server (the
    caller is then the database's only writer)."""

    def run_on_writer(self, task: Callable[[], _T]) -> Future[_T]:
        future: Future[_T] = Future()
        try:
            future.set_result(task())
        except Exception as exc:
            future.set_exception(exc)
        return future
