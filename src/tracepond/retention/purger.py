"""The background purge: traces past the retention, then the oldest past the size budget.

A trace expires when its last span ended (``traces.end_ns``, the span timestamps the
application sent) more than the retention ago: "keep 30 days" keeps what the web view shows as
the last 30 days, and a long trace still receiving spans is not cut while it runs. A span that
arrives for an already expired trace makes a new, partial trace that the next pass expires.

The purge thread only picks traces (reads on its own cursor); each batch is deleted on the
writer thread between two commits (``TraceDeleter``), so ingest never waits for more than one
batch. The size budget compares the space the data uses (the file's blocks in use plus the
WAL: the file never shrinks, DuckDB reuses freed blocks) with ``max_bytes``, and once past it
deletes as many of the oldest traces as should bring it under ``LOW_WATER`` of it (at the
average trace's size), so that it does not purge again at every pass.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Final

from tracepond.retention.deleter import BATCH_TRACES, TraceDeleter

log = logging.getLogger("tracepond.retention")

# Past the budget, the oldest traces go until the data is under this share of it.
LOW_WATER: Final = 0.9


@dataclass(frozen=True)
class RetentionPolicy:
    """``retention_ns``: keep traces this long after they end (None: forever). ``max_bytes``:
    the size budget (None: none). ``interval``: seconds between passes."""

    retention_ns: int | None = None
    max_bytes: int | None = None
    interval: float = 60.0

    @property
    def active(self) -> bool:
        return self.retention_ns is not None or self.max_bytes is not None


def pass_interval(retention_ns: int | None) -> float:
    """A pass a minute, more often for retentions under four minutes (tests, benchmarks), so
    that nothing outlives its retention by more than a quarter of it."""
    if retention_ns is None:
        return 60.0
    return min(60.0, max(0.25, retention_ns / 4e9))


class Purger:
    def __init__(self, deleter: TraceDeleter, policy: RetentionPolicy) -> None:
        self._deleter = deleter
        self._store = deleter.store
        self.policy = policy
        self._stop = threading.Event()
        # What the data took after the last size purge (None: under the budget since).
        self._used_after_shrink: int | None = None
        self._thread = threading.Thread(target=self._loop, name="tracepond-purge", daemon=True)

    def start(self) -> None:
        # Always: a project may be given a retention of its own while the server runs. A pass
        # with nothing to do costs one read of the projects table.
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self.policy.interval):
            try:
                self.run_once()
            except Exception as exc:  # a failed pass is retried at the next one
                log.warning("purge pass failed: %s", exc)

    def run_once(self) -> dict[str, int]:
        """One pass: expired traces, then the size budget. Returns the counts by reason."""
        counts = {"retention": self._expire(), "size": self._shrink()}
        if any(counts.values()):
            self._deleter.drop_unused_origins()
        return counts

    def _expire(self) -> int:
        """Each project's traces past its retention (its own, else the server-wide one)."""
        now = time.time_ns()
        deleted = 0
        for project, own in self._store.project_retentions().items():
            retention = own if own is not None else self.policy.retention_ns
            if retention:  # None or 0 (a project kept forever): nothing expires
                deleted += self._expire_project(project, now - retention)
        return deleted

    def _expire_project(self, project: str, cutoff: int) -> int:
        deleted = 0
        while not self._stop.is_set():
            ids = self._store.expired_trace_ids(project, cutoff, BATCH_TRACES)
            if not ids:
                break
            done = self._deleter.delete_batch(project, ids, "retention", ended_before=cutoff)
            deleted += done
            if done == 0:  # every one got a new span meanwhile: no longer expired
                break
        if deleted:
            log.info(
                "purged %d traces of project %s past its retention (ended before %d)",
                deleted,
                project,
                cutoff,
                extra={"purged": deleted, "reason": "retention", "project": project},
            )
        return deleted

    def _shrink(self) -> int:
        budget = self.policy.max_bytes
        if budget is None:
            return 0
        used = self._store.used_bytes()
        if used <= budget:
            self._used_after_shrink = None
            return 0
        if self._used_after_shrink is not None and used <= self._used_after_shrink:
            # The last round's deletions have not shown in the measure yet: DuckDB frees a row
            # group's blocks only once enough of it is deleted, and the newest row group fills
            # with new spans first. Deleting more now could delete everything; the next round
            # waits until the data grew again.
            return 0
        _, traces = self._store.counts()
        if traces == 0:
            return 0
        # Deleted rows free their blocks at the next checkpoint: delete what should free the
        # excess at the average trace's size, checkpoint, then measure again.
        wanted = math.ceil((used - budget * LOW_WATER) / (used / traces))
        deleted = self._delete_oldest(wanted)
        self._deleter.on_writer(self._store.checkpoint)
        self._used_after_shrink = after = self._store.used_bytes()
        log.warning(
            "purged the %d oldest traces: the data took %d bytes, over the budget of %d;"
            " it takes %d now",
            deleted,
            used,
            budget,
            after,
            extra={"purged": deleted, "reason": "size"},
        )
        return deleted

    def _delete_oldest(self, wanted: int) -> int:
        deleted = 0
        while deleted < wanted and not self._stop.is_set():
            keys = self._store.oldest_trace_ids(min(BATCH_TRACES, wanted - deleted))
            if not keys:
                break
            by_project: dict[str, list[bytes]] = {}
            for project, trace_id in keys:
                by_project.setdefault(project, []).append(trace_id)
            for project, ids in by_project.items():
                deleted += self._deleter.delete_batch(project, ids, "size")
        return deleted
