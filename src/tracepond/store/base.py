"""The store contract. Every store (DuckDB today, a scale-out engine later) honours it, and the
conformance suite in ``tests/store/test_conformance.py`` checks it against each implementation.

Contract
--------
Writes
  * ``write`` takes any number of span batches (Arrow rows with the columns of
    ``ingest._rows.SPAN_COLUMNS``, and their per-trace partial summaries) and stores them in ONE
    transaction: either every span is stored or none is.
  * Writes are idempotent. A span is identified by ``(trace_id, span_id)``; writing a span that is
    already stored (an exporter retrying) changes nothing, and is not counted again in the trace
    summary. Within one call the first copy of a duplicated span wins.
  * A write is durable when ``write`` returns: the data is in the database file (its write-ahead
    log) and survives the process being killed. Receivers acknowledge a request only after that.
  * Spans of one trace may arrive over many writes, in any order (children before parents); the
    per-trace summary is kept current after every write.
Reads
  * Reads run concurrently with writes and see only committed data.
  * An unknown trace or span is an empty result (``[]`` / ``None``), never an exception; the
    query layer turns it into 404.
  * Ids are raw bytes in the store interface (16-byte trace ids, 8-byte span ids); hex is the
    API's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tracepond.ingest._rows import SpanBatch


@dataclass(frozen=True)
class WriteResult:
    """What one ``write`` call stored: new spans, and duplicates that were already there."""

    inserted: int
    duplicates: int


@dataclass(frozen=True)
class TraceSummary:
    trace_id: bytes
    root_span_id: bytes | None
    # The root span's name; while the root has not arrived, the earliest span's name.
    root_name: str
    service_name: str
    start_ns: int
    end_ns: int
    span_count: int
    error_count: int
    # Counted on leaf LLM/embedding spans only (see conventions.trace_totals).
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None
    models: list[str]
    session_id: str | None
    user_id: str | None
    llm_count: int
    tool_count: int
    retriever_count: int


@dataclass(frozen=True)
class TracePage:
    traces: list[TraceSummary]
    # Opaque position after the last trace of this page; None when there is no further page.
    next_cursor: tuple[int, bytes] | None


# One stored span as a mapping of column name -> value (JSON columns still as text).
SpanRecord = dict[str, Any]


class SpanStore(Protocol):
    def write(self, batches: Sequence[SpanBatch]) -> WriteResult:
        """Store all spans of ``batches`` in one durable, idempotent transaction."""
        ...

    def trace_spans(self, trace_id: bytes) -> list[SpanRecord]:
        """Every stored span of a trace, ordered by start time; [] for an unknown trace."""
        ...

    def span(self, trace_id: bytes, span_id: bytes) -> SpanRecord | None:
        """One stored span with everything stored for it; None when unknown."""
        ...

    def trace_summary(self, trace_id: bytes) -> TraceSummary | None:
        """The per-trace summary; None for an unknown trace."""
        ...

    def list_traces(self, limit: int, after: tuple[int, bytes] | None = None) -> TracePage:
        """Traces newest first (by start time, then trace id), ``limit`` at most, starting after
        the position ``after`` returned as ``next_cursor`` by the previous page."""
        ...

    def counts(self) -> tuple[int, int]:
        """(spans stored, traces stored)."""
        ...

    def checkpoint(self) -> None:
        """Optional housekeeping the writer runs when idle; must not change what reads return."""
        ...

    def close(self) -> None:
        """Release the database. Writes after close raise StorageUnavailable."""
        ...
