"""The span batch: the stored columns of spans, their Arrow schema, and what a write carries.

The decoder (``ingest/``) builds batches and every store writes them; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from tracepond.model.summary import TracePartial
from tracepond.projects import DEFAULT_PROJECT

VIEW_COLUMNS = (
    "category",
    "model",
    "provider",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
    "cost_source",
    "cost_price",
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
    # The span's resource and scope, as a key into the store's origins (``SpanBatch.origins``
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
        ("cost_source", pa.string()),
        ("cost_price", pa.string()),
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
    # The project every span of the batch is stored in (chosen by the ingest service).
    project: str = DEFAULT_PROJECT
    # origin_id -> the project its resource named (attribute tracepond.project), for the
    # origins that named one: the ingest service routes by it when the request named none.
    origin_projects: dict[int, str] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)
