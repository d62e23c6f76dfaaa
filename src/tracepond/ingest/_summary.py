"""Per-trace summaries of a batch of spans, and how two summaries of one trace combine.

The decoder summarizes each request while it still holds every span's values in Python; the
writer merges those partial summaries with the stored ones. That keeps a GROUP BY (a few ms of
fixed cost per statement in DuckDB) out of every commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from tracepond.conventions import SpanView, TraceTotals, Usage, trace_totals

STATUS_ERROR = 2
# The view columns that trace totals need, in SpanView order below.
TOTALS_COLUMNS = (
    "category",
    "model",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "session_id",
    "user_id",
)
SUMMARY_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "service_name",
    "start_ns",
    "end_ns",
    "status_code",
    *TOTALS_COLUMNS,
)


@dataclass(slots=True)
class TracePartial:
    """What a set of spans of one trace says about the trace.

    ``root_*`` describe the parentless span when one is among them; ``first_*`` the span that
    starts first, whose name and service stand in for the root's until the root arrives.
    """

    trace_id: bytes
    root_span_id: bytes | None
    root_name: str
    root_service: str
    first_start_ns: int
    first_name: str
    first_service: str
    end_ns: int
    span_count: int
    error_count: int
    # Leaf-only token/cost totals; None once partials were merged (leafness depends on the
    # whole trace, so merged totals are recomputed from all its spans).
    totals: TraceTotals | None = None

    @property
    def name(self) -> str:
        return self.root_name if self.root_span_id is not None else self.first_name

    @property
    def service(self) -> str:
        return self.root_service if self.root_span_id is not None else self.first_service

    def absorb(self, other: TracePartial) -> None:
        """Add ``other`` (more spans of the same trace, none counted here already)."""
        if self.root_span_id is None and other.root_span_id is not None:
            self.root_span_id = other.root_span_id
            self.root_name, self.root_service = other.root_name, other.root_service
        if other.first_start_ns < self.first_start_ns:
            self.first_start_ns = other.first_start_ns
            self.first_name, self.first_service = other.first_name, other.first_service
        self.end_ns = max(self.end_ns, other.end_ns)
        self.span_count += other.span_count
        self.error_count += other.error_count
        self.totals = None


def summarize(
    columns: Mapping[str, Sequence[Any]], views: Sequence[SpanView] | None = None
) -> dict[bytes, TracePartial]:
    """Partial summaries by trace id, from span columns (trace_id, span_id, parent_span_id, name,
    service_name, start_ns, end_ns, status_code and the view columns). ``views``, when given,
    are the spans' normalized views (else they are rebuilt from the view columns)."""
    out = _summaries(columns)
    if views is None:
        views = views_from_columns(columns)
    spans = zip(
        columns["trace_id"], columns["span_id"], columns["parent_span_id"], views, strict=True
    )
    for trace_id, totals in _totals(spans).items():
        out[trace_id].totals = totals
    return out


def totals_by_trace(rows: Iterable[tuple[Any, ...]]) -> dict[bytes, TraceTotals]:
    """Totals per trace from rows of (trace_id, span_id, parent_span_id, *TOTALS_COLUMNS)."""
    rows = list(rows)
    columns = {name: [row[3 + i] for row in rows] for i, name in enumerate(TOTALS_COLUMNS)}
    views = views_from_columns(columns)
    return _totals((row[0], row[1], row[2], view) for row, view in zip(rows, views, strict=True))


def _totals(
    spans: Iterable[tuple[bytes, bytes, bytes | None, SpanView]],
) -> dict[bytes, TraceTotals]:
    by_trace: dict[bytes, list[tuple[bytes, bytes | None, SpanView]]] = {}
    for trace_id, span_id, parent, view in spans:
        by_trace.setdefault(trace_id, []).append((span_id, parent, view))
    return {trace_id: trace_totals(rows) for trace_id, rows in by_trace.items()}


def views_from_columns(columns: Mapping[str, Sequence[Any]]) -> list[SpanView]:
    """Views carrying just what trace totals read, rebuilt from stored view columns."""
    return [
        SpanView(
            category=category or "unknown",
            model=model,
            usage=Usage(input_tokens=tokens_in, output_tokens=tokens_out, total_tokens=total),
            cost=cost,
            session_id=session_id,
            user_id=user_id,
        )
        for category, model, tokens_in, tokens_out, total, cost, session_id, user_id in zip(
            *(columns[name] for name in TOTALS_COLUMNS), strict=True
        )
    ]


def _summaries(columns: Mapping[str, Sequence[Any]]) -> dict[bytes, TracePartial]:
    out: dict[bytes, TracePartial] = {}
    rows = zip(
        columns["trace_id"],
        columns["span_id"],
        columns["parent_span_id"],
        columns["name"],
        columns["service_name"],
        columns["start_ns"],
        columns["end_ns"],
        columns["status_code"],
        strict=True,
    )
    for trace_id, span_id, parent, name, service, start, end, status in rows:
        root = span_id if parent is None else None
        span = TracePartial(
            trace_id,
            root,
            name if root else "",
            service if root else "",
            start,
            name,
            service,
            end,
            1,
            1 if status == STATUS_ERROR else 0,
        )
        known = out.get(trace_id)
        if known is None:
            out[trace_id] = span
        else:
            known.absorb(span)
    return out


def summarize_table(table: pa.Table) -> dict[bytes, TracePartial]:
    return summarize({name: table[name].to_pylist() for name in SUMMARY_COLUMNS})


def merge_into(target: dict[bytes, TracePartial], partials: Iterable[TracePartial]) -> None:
    for partial in partials:
        known = target.get(partial.trace_id)
        if known is None:
            target[partial.trace_id] = partial
        else:
            known.absorb(partial)
