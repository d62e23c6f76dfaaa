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

STATUS_ERROR = 2


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


def summarize(columns: Mapping[str, Sequence[Any]]) -> dict[bytes, TracePartial]:
    """Partial summaries by trace id, from span columns (trace_id, span_id, parent_span_id, name,
    service_name, start_ns, end_ns, status_code)."""
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
    names = (
        "trace_id",
        "span_id",
        "parent_span_id",
        "name",
        "service_name",
        "start_ns",
        "end_ns",
        "status_code",
    )
    return summarize({name: table[name].to_pylist() for name in names})


def merge_into(target: dict[bytes, TracePartial], partials: Iterable[TracePartial]) -> None:
    for partial in partials:
        known = target.get(partial.trace_id)
        if known is None:
            target[partial.trace_id] = partial
        else:
            known.absorb(partial)
