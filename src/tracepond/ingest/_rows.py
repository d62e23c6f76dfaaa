"""Columnar span rows: what decoding produces and what the store writes.

Columns are plain lists, one per stored column, so that turning them into an Arrow table (the
store's bulk-insert path) costs one C call per column instead of Python work per span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tracepond.conventions import SpanView
from tracepond.ingest._summary import TracePartial, summarize_table

VIEW_COLUMNS = (
    "category",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "session_id",
    "user_id",
    "document_count",
    "tool_name",
    "error_type",
)

# What `tracepond reindex` rewrites: everything derived from the raw attributes.
DERIVED_COLUMNS = ("view_json", *VIEW_COLUMNS)

# Stored columns in order. `*_json` columns hold JSON text.
SPAN_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status_code",
    "status_message",
    "trace_state",
    "flags",
    "service_name",
    # The span's resource and scope, as a key into the store's origins (``SpanRows.origins``
    # holds their JSON): a request's spans share a handful of them, and writing ~350 bytes of
    # the same JSON into every span row was over a quarter of the bytes shipped and committed.
    "origin_id",
    "scope_name",
    "scope_version",
    "attributes_json",
    "events_json",
    "links_json",
    "dropped_attributes_count",
    "dropped_events_count",
    "dropped_links_count",
    "truncated_json",
    # The normalized view (tracepond.conventions), derived from the raw attributes at ingest and
    # recomputed by `tracepond reindex`: all of it as JSON, then its scalar fields.
    "view_json",
    *VIEW_COLUMNS,
)


@dataclass
class SpanRows:
    """Decoded spans. The decoder appends one tuple per span (values in SPAN_COLUMNS order):
    one allocation per span instead of ~40 list appends; ``columns`` transposes them once.
    ``attributes``/``events``/``views`` keep the decoded Python values next to their JSON text
    so that later stages need not parse JSON again."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    attributes: list[dict[str, Any]] = field(default_factory=list)
    events: list[list[dict[str, Any]]] = field(default_factory=list)
    views: list[SpanView] = field(default_factory=list)
    # origin_id -> (resource JSON, scope JSON) of the origins these rows refer to.
    origins: dict[int, tuple[str, str]] = field(default_factory=dict)
    _columns: dict[str, list[Any]] | None = None

    @property
    def columns(self) -> dict[str, list[Any]]:
        if self._columns is None or len(self.rows) != len(self._columns["trace_id"]):
            transposed = zip(*self.rows, strict=True) if self.rows else ([] for _ in SPAN_COLUMNS)
            self._columns = {
                name: list(values) for name, values in zip(SPAN_COLUMNS, transposed, strict=True)
            }
        return self._columns

    def __len__(self) -> int:
        return len(self.rows)


SPAN_SCHEMA = pa.schema(
    [
        ("trace_id", pa.binary()),
        ("span_id", pa.binary()),
        ("parent_span_id", pa.binary()),
        ("name", pa.string()),
        ("kind", pa.uint8()),
        ("start_ns", pa.int64()),
        ("end_ns", pa.int64()),
        ("status_code", pa.uint8()),
        ("status_message", pa.string()),
        ("trace_state", pa.string()),
        ("flags", pa.uint32()),
        ("service_name", pa.string()),
        ("origin_id", pa.int64()),
        ("scope_name", pa.string()),
        ("scope_version", pa.string()),
        ("attributes_json", pa.string()),
        ("events_json", pa.string()),
        ("links_json", pa.string()),
        ("dropped_attributes_count", pa.uint32()),
        ("dropped_events_count", pa.uint32()),
        ("dropped_links_count", pa.uint32()),
        ("truncated_json", pa.string()),
        ("view_json", pa.string()),
        ("category", pa.string()),
        ("model", pa.string()),
        ("provider", pa.string()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("total_tokens", pa.int64()),
        ("cost", pa.float64()),
        ("session_id", pa.string()),
        ("user_id", pa.string()),
        ("document_count", pa.int32()),
        ("tool_name", pa.string()),
        ("error_type", pa.string()),
    ]
)


@dataclass
class SpanBatch:
    """Spans ready to store: their rows, what they say about each of their traces, and the
    origins (resource and scope JSON) their ``origin_id`` column refers to."""

    table: pa.Table
    traces: dict[bytes, TracePartial]
    origins: dict[int, tuple[str, str]]

    @classmethod
    def from_table(cls, table: pa.Table, origins: dict[int, tuple[str, str]]) -> SpanBatch:
        return cls(table, summarize_table(table), origins)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


def to_arrow(rows: SpanRows) -> pa.Table:
    """The stored columns of ``rows`` as one Arrow table (the store's bulk-insert format)."""
    columns = rows.columns
    return pa.Table.from_arrays(
        [pa.array(columns[f.name], type=f.type) for f in SPAN_SCHEMA], schema=SPAN_SCHEMA
    )
