"""The write pipeline: receivers submit decoded batches, one writer thread commits them.

* Bounded: at most ``max_queued_spans`` spans wait; past that ``submit`` raises Overloaded so the
  receiver answers 503 / UNAVAILABLE and the exporter retries. Memory stays bounded.
* Group commit: the writer takes everything waiting (up to ``max_commit_spans``, or fewer when
  the store's housekeeping asks for it: ``StoreMaintenance.commit_room``) and stores it in one
  transaction, so a busy server commits large groups and a quiet one commits at once.
* Acknowledge only what is committed: each batch's future resolves after its transaction has
  committed, and fails (nothing stored) if the transaction failed: with StorageUnavailable when
  a retry can succeed, StorageRejected when the batch itself cannot be stored. A failed group is
  retried one batch at a time, so that a batch the store rejects fails alone.
* Other writes (retention, deletions) run on the same thread, between commits: ``run_on_writer``
  queues a short task (one purge batch), and the writer runs at most one task between two
  commit groups, so ingest keeps its turn however much there is to delete.
* Housekeeping: a store that declares it (``StoreCapabilities.housekeeping``) is checkpointed
  when the writer falls idle; the pipeline is given its maintenance part for that, or None.
* Self-healing: while the store cannot write (``SpanWriter.health``), the writer asks it to
  ``recover`` before each commit and every ``RECOVERY_SECONDS`` when idle; while it is
  recovering, ``submit`` refuses batches at once (503 / UNAVAILABLE, retry later).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyarrow as pa

from tracepond.errors import Overloaded, StorageUnavailable
from tracepond.model.records import WriteResult
from tracepond.model.spans import SpanBatch
from tracepond.store.contract import SpanWriter, StoreMaintenance

# Called on the writer thread after each successful commit with the committed group's rows (as
# received, before duplicates were dropped) and what the store reported. Must be cheap and must
# not raise (an exception is logged and ignored: the commit already happened).
CommitHook = Callable[[pa.Table, WriteResult], None]

log = logging.getLogger(__name__)
_T = TypeVar("_T")


# After this long without a request, the writer checkpoints the database.
IDLE_CHECKPOINT_SECONDS = 2.0
# While the store cannot write, the writer tries to recover it this often when idle.
RECOVERY_SECONDS = 0.5
# Every commit costs a fixed ~10 ms of statement overhead, so under load bigger groups mean less
# CPU per span. When requests are being decoded as a commit group forms, the writer waits this
# long at most for them to join (and never when nothing is on its way: no added latency then).
LINGER_SECONDS = 0.015


@dataclass
class _Pending:
    batch: SpanBatch
    future: Future[WriteResult] = field(default_factory=Future)


@dataclass
class _Task:
    run: Callable[[], Any]
    future: Future[Any] = field(default_factory=Future)


@dataclass
class PipelineStats:
    """Counters read by /metrics; written by the writer thread only."""

    commits: int = 0
    committed_spans: int = 0
    duplicate_spans: int = 0
    failed_commits: int = 0
    last_commit_seconds: float = 0.0
    commit_sizes: list[int] = field(default_factory=list)
    commit_seconds: list[float] = field(default_factory=list)
    # Tasks run between commits (purge batches) and the longest one: how long it held ingest.
    tasks: int = 0
    longest_task_seconds: float = 0.0


class WritePipeline:
    def __init__(
        self,
        store: SpanWriter,
        *,
        housekeeping: StoreMaintenance | None,
        max_queued_spans: int,
        max_commit_spans: int,
        on_commit: CommitHook | None = None,
    ) -> None:
        """``housekeeping``: the store's maintenance when it wants idle checkpoints and commit
        room (``store.contract.housekeeping(store)``), else None."""
        self._store = store
        self._housekeeping = housekeeping
        self._on_commit = on_commit
        self._max_queued = max_queued_spans
        self._max_commit = max_commit_spans
        self._queue: deque[_Pending] = deque()
        self._tasks: deque[_Task] = deque()
        self._queued_spans = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._dirty = False
        self._expected = 0  # requests being decoded that will be submitted (or given up)
        self._thread = threading.Thread(target=self._run, name="tracepond-writer", daemon=True)
        self.stats = PipelineStats()

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    def start(self) -> None:
        self._thread.start()

    def expect(self) -> None:
        """A request is being decoded and will be submitted or abandoned (``abandon``)."""
        with self._cond:
            self._expected += 1

    def abandon(self) -> None:
        """An expected request will not be submitted (invalid, no valid spans, or failed)."""
        with self._cond:
            self._expected = max(0, self._expected - 1)
            self._cond.notify()

    def submit(self, batch: SpanBatch) -> Future[WriteResult]:
        """Queue a batch; the future resolves once it is committed. Raises Overloaded when full."""
        pending = _Pending(batch)
        with self._cond:
            if self._stopping:
                raise StorageUnavailable("server is shutting down")
            health = self._store.health()
            if health.state == "recovering":
                raise StorageUnavailable(f"the store is recovering: {health.reason}")
            # An empty queue always admits one batch, however large, so that no request that
            # passed the body-size limit can be refused forever.
            if self._queue and self._queued_spans + batch.num_rows > self._max_queued:
                raise Overloaded(
                    f"write queue full ({self._queued_spans} spans waiting); retry later"
                )
            self._queue.append(pending)
            self._queued_spans += batch.num_rows
            self._expected = max(0, self._expected - 1)
            self._cond.notify()
        return pending.future

    def run_on_writer(self, task: Callable[[], _T]) -> Future[_T]:
        """Run ``task`` on the writer thread between two commits; its future holds the result
        or the exception. Tasks must be short (they hold up every commit while they run); one
        runs between two commit groups. Refused (StorageUnavailable) once stopping."""
        pending = _Task(task)
        with self._cond:
            if self._stopping:
                raise StorageUnavailable("server is shutting down")
            self._tasks.append(pending)
            self._cond.notify()
        return pending.future

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the writer thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _take_group(self) -> list[_Pending] | None:
        """The next commit group; [] when the writer fell idle; None when stopping and drained."""
        with self._cond:
            if not self._queue and not self._tasks and not self._stopping:
                healthy = self._store.health().writable
                self._cond.wait(IDLE_CHECKPOINT_SECONDS if healthy else RECOVERY_SECONDS)
            if not self._queue:
                return None if self._stopping else []
            self._linger()
            limit = self._max_commit
            room = self._housekeeping.commit_room() if self._housekeeping else None
            if room is not None:
                limit = min(limit, room)
            group = [self._queue.popleft()]
            spans = group[0].batch.num_rows
            while self._queue and spans + self._queue[0].batch.num_rows <= limit:
                spans += self._queue[0].batch.num_rows
                group.append(self._queue.popleft())
            self._queued_spans -= spans
            return group

    def _linger(self) -> None:
        """Wait (lock held by the caller, released while waiting) for requests on their way."""
        deadline = time.monotonic() + LINGER_SECONDS
        while (
            self._expected
            and not self._stopping
            and self._queued_spans < self._max_commit
            and (remaining := deadline - time.monotonic()) > 0
        ):
            self._cond.wait(remaining)

    def _checkpoint(self) -> None:
        # Idle time is the cheapest moment to rewrite the WAL into the file: no request waits.
        self._dirty = False
        if self._housekeeping is None:
            return
        try:
            self._housekeeping.checkpoint()
        except Exception as exc:
            # The store notes the failure in its health; the next iteration recovers it.
            log.warning("idle checkpoint failed: %s", exc)

    def _recover(self) -> None:
        try:
            self._store.recover()
        except Exception:  # the contract says it never raises: a bug, not a reason to stop
            log.exception("store recovery failed")

    def _run(self) -> None:
        while (group := self._take_group()) is not None:
            if not self._store.health().writable:
                self._recover()
            if group:
                self._commit(group)
            if self._tasks:
                self._run_task()
            elif not group and self._dirty:
                self._checkpoint()
        self._cancel_tasks()

    def _run_task(self) -> None:
        with self._cond:
            task = self._tasks.popleft()
        if not task.future.set_running_or_notify_cancel():
            return
        started = time.perf_counter()
        try:
            result = task.run()
        except BaseException as exc:
            task.future.set_exception(exc)
        else:
            task.future.set_result(result)
        finally:
            elapsed = time.perf_counter() - started
            self._dirty = True  # a deletion frees blocks only once checkpointed
            self.stats.tasks += 1
            self.stats.longest_task_seconds = max(self.stats.longest_task_seconds, elapsed)

    def _cancel_tasks(self) -> None:
        with self._cond:
            tasks, self._tasks = list(self._tasks), deque()
        for task in tasks:
            if task.future.set_running_or_notify_cancel():
                task.future.set_exception(StorageUnavailable("server is shutting down"))

    def _commit(self, group: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            result = self._store.write([p.batch for p in group])
        except Exception as exc:
            self.stats.failed_commits += 1
            log.warning("commit of %d batches failed: %s", len(group), exc)
            if len(group) > 1:
                # Retry one by one so that one bad batch (rejected, or too large to commit
                # beside the others) cannot fail its neighbours.
                for pending in group:
                    self._commit([pending])
                return
            group[0].future.set_exception(exc)
            return
        elapsed = time.perf_counter() - started
        self._dirty = True
        self._record(result, elapsed)
        # Before acknowledging, so that what a client saw acknowledged is already in /metrics.
        if self._on_commit is not None:
            self._notify(group, result)
        for pending in group:
            pending.future.set_result(result)

    def _notify(self, group: list[_Pending], result: WriteResult) -> None:
        assert self._on_commit is not None
        try:
            tables = [p.batch.table for p in group]
            self._on_commit(tables[0] if len(tables) == 1 else pa.concat_tables(tables), result)
        except Exception:
            log.exception("commit hook failed")

    def _record(self, result: WriteResult, elapsed: float) -> None:
        stats = self.stats
        stats.commits += 1
        stats.committed_spans += result.inserted
        stats.duplicate_spans += result.duplicates
        stats.last_commit_seconds = elapsed
        # Bounded samples for histograms; /metrics drains them.
        if len(stats.commit_sizes) < 10_000:
            stats.commit_sizes.append(result.inserted + result.duplicates)
            stats.commit_seconds.append(elapsed)
