"""Copying a database from one store to another (``tracepond copy``), through the store
contract only: any store the contract covers can be a source or a destination.

The source's traces are walked project by project in chunks of ids (``trace_id_chunks``), read
a few at a time (``traces``) and turned back into the span batches ingest makes (origins rebuilt
from each span's resource and scope JSON, with the key ingest gives them), then written with the
destination's writer in batches of bounded size: memory holds one read and one batch, never the
database. The stored derived columns (the normalized view, cost, ...) are copied as stored, not
recomputed; the destination builds each trace's summary and totals from the spans, with the
contract's rules.

Writing is idempotent by contract, so copying again after an interruption completes the copy
without doubling anything. Projects are created in the destination with their description and
retention; API keys are not copied (the destination's operators make their own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tracepond.conventions import batch_from_table
from tracepond.errors import ProjectNotFound
from tracepond.ingest.decode import origin_id
from tracepond.model.records import SpanRecord
from tracepond.model.spans import SPAN_COLUMNS, SPAN_SCHEMA, SpanBatch
from tracepond.projects import Project
from tracepond.store.contract import Store, housekeeping

# The columns a span record gives as they are stored; ``origin_id`` is rebuilt from the record's
# ``resource_json`` and ``scope_json``.
_RECORD_COLUMNS = tuple(name for name in SPAN_COLUMNS if name != "origin_id")
# What a span costs beyond its text, for the byte bounds below (ids, times, counts, overhead).
_SPAN_OVERHEAD_BYTES = 256


@dataclass(frozen=True)
class CopyLimits:
    """How much a copy holds at once. ``trace_ids``: ids asked of the source per chunk;
    ``read_bytes``: about how many bytes of spans one read of the source returns (the number
    of traces per read follows the traces seen so far; a trace is always read whole);
    ``batch_spans`` / ``batch_bytes``: the most one write to the destination holds (a larger
    trace is written over several writes, which the destination merges)."""

    trace_ids: int = 1_000
    read_bytes: int = 64 * 1024**2
    max_traces_per_read: int = 256
    batch_spans: int = 10_000
    batch_bytes: int = 32 * 1024**2


@dataclass
class Progress:
    """Where a copy is: the project being copied, and what was read and written so far."""

    project: str
    traces: int = 0
    spans: int = 0
    # Of the spans written: newly stored, and already in the destination (a resumed copy).
    inserted: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class ProjectCounts:
    """One project's (spans, traces) in the source and in the destination after the copy."""

    project: str
    source: tuple[int, int]
    destination: tuple[int, int]

    @property
    def matches(self) -> bool:
        return self.source == self.destination


@dataclass
class CopyResult:
    progress: dict[str, Progress] = field(default_factory=dict)
    counts: list[ProjectCounts] = field(default_factory=list)

    @property
    def spans(self) -> int:
        return sum(p.spans for p in self.progress.values())

    @property
    def traces(self) -> int:
        return sum(p.traces for p in self.progress.values())

    @property
    def inserted(self) -> int:
        return sum(p.inserted for p in self.progress.values())


OnProgress = Callable[[Progress], None]


def copy_store(
    source: Store,
    destination: Store,
    projects: Sequence[str] | None = None,
    limits: CopyLimits | None = None,
    on_progress: OnProgress | None = None,
) -> CopyResult:
    """Copy the traces of ``projects`` (None: every project) from ``source`` into
    ``destination``, creating the projects there; ``ProjectNotFound`` for a project the source
    does not have. Returns what was copied and both stores' counts per project."""
    limits = limits or CopyLimits()
    chosen = select_projects(source.projects_list(), projects)
    copy_projects(chosen, destination)
    result = CopyResult({p.name: Progress(p.name) for p in chosen})
    writer = _BatchWriter(destination, limits, on_progress)
    for project, trace_ids in source.trace_id_chunks(limits.trace_ids):
        if project in result.progress:
            progress = result.progress[project]
            for spans in _read_traces(source, project, trace_ids, limits):
                writer.add(progress, spans)
    writer.flush()
    maintenance = housekeeping(destination)
    if maintenance is not None:
        maintenance.checkpoint()
    result.counts = [
        ProjectCounts(p.name, source.counts(p.name), destination.counts(p.name)) for p in chosen
    ]
    return result


def select_projects(available: list[Project], names: Sequence[str] | None) -> list[Project]:
    """The source's projects to copy, in the order given (None: all, by name)."""
    if not names:
        return available
    by_name = {p.name: p for p in available}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise ProjectNotFound(f"the source has no project {', '.join(map(repr, missing))}")
    return [by_name[name] for name in dict.fromkeys(names)]


def copy_projects(projects: Iterable[Project], destination: Store) -> None:
    """Create each project in the destination with its description and retention; one that
    exists there already gets the source's retention (its description is left as it is)."""
    for project in projects:
        existing = destination.projects_get(project.name)
        if existing is None:
            destination.projects_create(project.name, project.description, project.retention_ns)
        elif existing.retention_ns != project.retention_ns:
            destination.projects_set_retention(project.name, project.retention_ns)


def _read_traces(
    source: Store, project: str, trace_ids: list[bytes], limits: CopyLimits
) -> Iterator[list[SpanRecord]]:
    """The traces of ``trace_ids``, read a few at a time: as many as make about
    ``limits.read_bytes`` at the average size of the traces read so far."""
    start, per_read, seen_traces, seen_bytes = 0, 1, 0, 0
    while start < len(trace_ids):
        found = source.traces(trace_ids[start : start + per_read], "all", project)
        start += per_read
        for _, spans in found:
            seen_traces += 1
            seen_bytes += sum(_record_bytes(span) for span in spans)
            yield spans
        average = max(1, seen_bytes // max(1, seen_traces))
        per_read = max(1, min(limits.max_traces_per_read, limits.read_bytes // average))


def _record_bytes(record: SpanRecord) -> int:
    texts = (value for value in record.values() if isinstance(value, str | bytes))
    return _SPAN_OVERHEAD_BYTES + sum(len(text) for text in texts)


class _BatchWriter:
    """Collects spans into batches of bounded size and writes each with the destination's
    writer (one project per batch)."""

    def __init__(self, destination: Store, limits: CopyLimits, on_progress: OnProgress | None):
        self._destination = destination
        self._housekeeping = housekeeping(destination)
        self._limits = limits
        self._on_progress = on_progress
        self._progress: Progress | None = None
        self._rows: list[SpanRecord] = []
        self._bytes = 0
        self._room = limits.batch_spans

    def add(self, progress: Progress, spans: list[SpanRecord]) -> None:
        if self._progress is not progress:
            self.flush()
            self._progress = progress
        for span in spans:
            if not self._rows:
                self._room = self._batch_room()
            self._rows.append(span)
            self._bytes += _record_bytes(span)
            progress.spans += 1
            if len(self._rows) >= self._room or self._bytes >= self._limits.batch_bytes:
                self.flush()
        progress.traces += 1

    def _batch_room(self) -> int:
        """The span bound of the next batch: the limit, or less when the store's housekeeping
        asks for a smaller commit (DuckDB: ending on a row-group boundary)."""
        room = self._housekeeping.commit_room() if self._housekeeping else None
        return min(self._limits.batch_spans, room) if room else self._limits.batch_spans

    def flush(self) -> None:
        progress = self._progress
        if not self._rows or progress is None:
            return
        written = self._destination.write([span_batch(self._rows, progress.project)])
        progress.inserted += written.inserted
        progress.duplicates += written.duplicates
        self._rows, self._bytes = [], 0
        if self._on_progress is not None:
            self._on_progress(progress)


def span_batch(records: Sequence[SpanRecord], project: str) -> SpanBatch:
    """Stored span records (``SPAN_RECORD_COLUMNS``) as the batch ingest would make of them:
    their stored columns, origins keyed as the decoder keys them, per-trace summaries."""
    origins: dict[int, tuple[str, str]] = {}
    keys: dict[tuple[str, str], int] = {}
    origin_ids: list[int] = []
    for record in records:
        pair = (record["resource_json"], record["scope_json"])
        key = keys.get(pair)
        if key is None:
            key = keys[pair] = origin_id(*pair)
            origins[key] = pair
        origin_ids.append(key)
    columns: dict[str, list[Any]] = {
        name: [record[name] for record in records] for name in _RECORD_COLUMNS
    }
    columns["origin_id"] = origin_ids
    table = pa.table({name: columns[name] for name in SPAN_COLUMNS}, schema=SPAN_SCHEMA)
    return batch_from_table(table, origins, project)
