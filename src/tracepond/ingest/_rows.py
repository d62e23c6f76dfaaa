"""Columnar span rows: what decoding produces, made into the Arrow table of a ``SpanBatch``
(``model/spans.py``) that the store writes.

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
from tracepond.model.spans import SPAN_COLUMNS, SPAN_SCHEMA

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
