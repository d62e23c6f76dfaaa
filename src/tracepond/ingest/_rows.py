"""Columnar span rows: what decoding produces and what the store writes.

Columns are plain lists, one per stored column, so that turning them into an Arrow table (the
store's bulk-insert path) costs one C call per column instead of Python work per span.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tracepond.conventions import SpanView
from tracepond.ingest._summary import TracePartial, summarize_table
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


# The JSON text columns: where a span's bulk is (prompts, documents, tool results). The decoder
# appends their UTF-8 bytes to one buffer per column (``TextColumn``) instead of keeping a Python
# string per span, and the Arrow column is made over that buffer without a copy: a request of
# large spans is then held once as text while it is decoded, not as Python strings and again as
# Arrow (the largest share of a decode worker's memory for such requests).
TEXT_COLUMNS = ("attributes_json", "events_json", "links_json", "truncated_json", "view_json")
# The other columns, in SPAN_COLUMNS order: the decoder's one tuple per span.
ROW_COLUMNS = tuple(name for name in SPAN_COLUMNS if name not in TEXT_COLUMNS)


class TextColumn:
    """One string column as Arrow lays it out: UTF-8 bytes end to end, each value's end offset,
    and which values are null. Append only valid UTF-8 (orjson's output always is)."""

    __slots__ = ("data", "ends", "nulls")

    def __init__(self) -> None:
        self.data = bytearray()
        self.ends = array("i", [0])  # Arrow's int32 string offsets
        self.nulls: list[int] = []

    def append(self, text: bytes | None) -> None:
        if text is None:
            self.nulls.append(len(self.ends) - 1)
        else:
            self.data += text
        self.ends.append(len(self.data))

    def __len__(self) -> int:
        return len(self.ends) - 1

    def values(self) -> list[str | None]:
        """The values as Python strings (for tests and tools; the store reads ``to_arrow``)."""
        data, ends, nulls = self.data, self.ends, set(self.nulls)
        return [
            None if i in nulls else data[ends[i] : ends[i + 1]].decode() for i in range(len(self))
        ]

    def to_arrow(self) -> pa.Array:
        """The column as an Arrow string array over this column's own buffers (no copy): the
        column must not be appended to afterwards (the bytearray refuses to grow while Arrow
        holds it)."""
        count = len(self)
        validity = None
        if self.nulls:
            valid = [True] * count
            for index in self.nulls:
                valid[index] = False
            # A boolean array's data is a bitmap laid out like a validity bitmap.
            validity = pa.array(valid, pa.bool_()).buffers()[1]
        buffers = [validity, pa.py_buffer(self.ends), pa.py_buffer(self.data)]
        return pa.Array.from_buffers(pa.string(), count, buffers, null_count=len(self.nulls))


@dataclass
class SpanRows:
    """Decoded spans. The decoder appends one tuple per span (values in ROW_COLUMNS order: one
    allocation per span instead of ~40 list appends) and its JSON texts to ``texts``;
    ``columns`` transposes them once. ``views`` keeps each span's normalized view (or, for a
    large span, the part of it trace totals read) so that summaries need not parse JSON again;
    ``attributes``/``events`` keep the decoded Python values only when the decoder was asked
    to (``SpanDecoder(keep_values=True)``)."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    texts: dict[str, TextColumn] = field(
        default_factory=lambda: {name: TextColumn() for name in TEXT_COLUMNS}
    )
    attributes: list[dict[str, Any]] = field(default_factory=list)
    events: list[list[dict[str, Any]]] = field(default_factory=list)
    views: list[SpanView] = field(default_factory=list)
    # origin_id -> (resource JSON, scope JSON) of the origins these rows refer to.
    origins: dict[int, tuple[str, str]] = field(default_factory=dict)
    # origin_id -> the value of its resource's tracepond.project attribute, where it has one.
    origin_projects: dict[int, str] = field(default_factory=dict)
    _columns: dict[str, list[Any]] | None = None

    @property
    def row_columns(self) -> dict[str, list[Any]]:
        """The ROW_COLUMNS as lists (transposed once per length)."""
        if self._columns is None or len(self.rows) != len(self._columns["trace_id"]):
            transposed = zip(*self.rows, strict=True) if self.rows else ([] for _ in ROW_COLUMNS)
            self._columns = {
                name: list(values) for name, values in zip(ROW_COLUMNS, transposed, strict=True)
            }
        return self._columns

    @property
    def columns(self) -> Mapping[str, list[Any]]:
        """Every stored column by name; the text ones are made into Python strings when read."""
        return _Columns(self)

    def __len__(self) -> int:
        return len(self.rows)


class _Columns(Mapping[str, list[Any]]):
    def __init__(self, rows: SpanRows) -> None:
        self._rows = rows

    def __getitem__(self, name: str) -> list[Any]:
        text = self._rows.texts.get(name)
        return text.values() if text is not None else self._rows.row_columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(SPAN_COLUMNS)

    def __len__(self) -> int:
        return len(SPAN_COLUMNS)


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

    @classmethod
    def from_table(
        cls, table: pa.Table, origins: dict[int, tuple[str, str]], project: str = DEFAULT_PROJECT
    ) -> SpanBatch:
        return cls(table, summarize_table(table), origins, project)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    def rows(self, offset: int, length: int) -> SpanBatch:
        """``length`` of its rows from ``offset``, summarized on their own."""
        return SpanBatch.from_table(self.table.slice(offset, length), self.origins, self.project)


def to_arrow(rows: SpanRows) -> pa.Table:
    """The stored columns of ``rows`` as one Arrow table (the store's bulk-insert format)."""
    columns = rows.row_columns
    texts = rows.texts
    return pa.Table.from_arrays(
        [
            texts[f.name].to_arrow() if f.name in texts else pa.array(columns[f.name], type=f.type)
            for f in SPAN_SCHEMA
        ],
        schema=SPAN_SCHEMA,
    )
