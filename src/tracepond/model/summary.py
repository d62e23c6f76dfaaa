"""Per-trace summaries of a batch of spans, and how two summaries of one trace combine:
engine-neutral rules every store reuses (or computes the same result of at read time).

The decoder summarizes each request while it still holds every span's values in Python; the
writer merges those partial summaries with the stored ones. That keeps a GROUP BY (a few ms of
fixed cost per statement in DuckDB) out of every commit. The leaf-only token and cost totals
follow the conventions' rule (``conventions/_totals.py``); ``conventions/_summaries.py`` adds
them to the partials made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STATUS_ERROR = 2
# The view columns that trace totals need, in the order ``views_from_columns`` reads them
# (conventions/_summaries.py).
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
class TraceTotals:
    """A trace's leaf-only token and cost totals, and what its spans say about it
    (``conventions.trace_totals`` computes them)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    models: list[str] = field(default_factory=list)
    session_id: str | None = None
    user_id: str | None = None
    llm_steps: int = 0
    tool_steps: int = 0
    retriever_steps: int = 0


@dataclass(slots=True)
class TracePartial:
    """What a set of spans of one trace says about the trace.

    ``root_*`` describe the parentless span when one is among them; ``first_*`` the span that
    starts first, whose name and service stand in for the root's until the root arrives.

    Which span is "the" root, and which the stand-in, depends only on the set of spans, never
    on the order they arrived in (several receivers must agree): among parentless spans the
    earliest-starting one, ties broken by the smallest span id; the stand-in likewise among all
    spans (``head_key``).
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
    # The root's start and the stand-in's span id: what orders candidates (``head_key``).
    root_start_ns: int = 0
    first_span_id: bytes = b""

    @property
    def name(self) -> str:
        return self.root_name if self.root_span_id is not None else self.first_name

    @property
    def service(self) -> str:
        return self.root_service if self.root_span_id is not None else self.first_service

    def absorb(self, other: TracePartial) -> None:
        """Add ``other`` (more spans of the same trace, none counted here already)."""
        self.take_head(other)
        self.end_ns = max(self.end_ns, other.end_ns)
        self.span_count += other.span_count
        self.error_count += other.error_count
        self.totals = None

    def take_head(self, other: TracePartial) -> None:
        """Keep whichever root and stand-in of the two comes first by ``head_key``."""
        if other.root_span_id is not None and (
            self.root_span_id is None
            or head_key(other.root_start_ns, other.root_span_id)
            < head_key(self.root_start_ns, self.root_span_id)
        ):
            self.root_span_id, self.root_start_ns = other.root_span_id, other.root_start_ns
            self.root_name, self.root_service = other.root_name, other.root_service
        if head_key(other.first_start_ns, other.first_span_id) < head_key(
            self.first_start_ns, self.first_span_id
        ):
            self.first_start_ns, self.first_span_id = other.first_start_ns, other.first_span_id
            self.first_name, self.first_service = other.first_name, other.first_service


def head_key(start_ns: int, span_id: bytes) -> tuple[int, bytes]:
    """The order in which spans compete to be a trace's root (among parentless spans) or its
    stand-in (among all): the earliest start, then the smallest span id."""
    return start_ns, span_id


def span_partial(
    trace_id: bytes,
    span_id: bytes,
    parent: bytes | None,
    name: str,
    service: str,
    start_ns: int,
    end_ns: int,
    status_code: int,
) -> TracePartial:
    """What one span says about its trace."""
    root = span_id if parent is None else None
    return TracePartial(
        trace_id,
        root,
        name if root else "",
        service if root else "",
        start_ns,
        name,
        service,
        end_ns,
        1,
        1 if status_code == STATUS_ERROR else 0,
        root_start_ns=start_ns,
        first_span_id=span_id,
    )


def partials_by_trace(columns: Mapping[str, Sequence[Any]]) -> dict[bytes, TracePartial]:
    """Partial summaries by trace id, without totals, from span columns (trace_id, span_id,
    parent_span_id, name, service_name, start_ns, end_ns, status_code)."""
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
    for row in rows:
        span = span_partial(*row)
        known = out.get(span.trace_id)
        if known is None:
            out[span.trace_id] = span
        else:
            known.absorb(span)
    return out


def merge_into(target: dict[bytes, TracePartial], partials: Iterable[TracePartial]) -> None:
    for partial in partials:
        known = target.get(partial.trace_id)
        if known is None:
            target[partial.trace_id] = partial
        else:
            known.absorb(partial)
