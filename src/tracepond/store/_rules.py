"""The engine-neutral write rules every store applies (or computes the same result of at read
time): which copy of a duplicated span is kept, how a batch's per-trace summaries are made and
merged with a stored one, that token totals count leaf calls only, over the whole trace, and
which span a trace reports as its root (or stand-in) whatever order its spans arrived in
(``model.summary.head_key``).

Pure functions over Arrow tables and the model's summaries: no engine, no SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa

from tracepond.conventions import summarize_table, totals_by_trace
from tracepond.model.spans import SpanBatch
from tracepond.model.summary import TOTALS_COLUMNS, TracePartial, merge_into, span_partial

# What a stored span contributes to its trace's totals, as ``totals_by_trace`` reads it.
TOTALS_SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", *TOTALS_COLUMNS)
# ... and to the choice of its root and stand-in (``drop_stored``'s stored span rows).
STORED_SPAN_COLUMNS = (*TOTALS_SPAN_COLUMNS, "name", "service_name", "start_ns")
_HEAD = len(TOTALS_SPAN_COLUMNS)
SpanKeys = set[tuple[bytes, bytes]]


def first_copies(table: pa.Table) -> pa.Table:
    """Keep the first copy of each (trace_id, span_id) within one write (the table itself when
    it holds no duplicate)."""
    keys = zip(table["trace_id"].to_pylist(), table["span_id"].to_pylist(), strict=True)
    seen: SpanKeys = set()
    keep = []
    for key in keys:
        keep.append(key not in seen)
        seen.add(key)
    return table if len(seen) == table.num_rows else table.filter(pa.array(keep))


def without(table: pa.Table, stored: SpanKeys) -> pa.Table:
    """The spans of ``table`` whose (trace_id, span_id) is not in ``stored``."""
    if not stored:
        return table
    keys = zip(table["trace_id"].to_pylist(), table["span_id"].to_pylist(), strict=True)
    return table.filter(pa.array([key not in stored for key in keys]))


def batch_traces(
    table: pa.Table, batches: Sequence[SpanBatch]
) -> tuple[pa.Table, dict[bytes, TracePartial]]:
    """The write's spans without in-write duplicates, and their per-trace summaries: the
    decoder's partial summaries merged when nothing was dropped (no per-span work), else
    summarized again from the spans kept."""
    unique = first_copies(table)
    if unique is not table:
        return unique, summarize_table(unique)
    traces: dict[bytes, TracePartial] = {}
    merge_into(traces, (replace(p) for b in batches for p in b.traces.values()))
    return unique, traces


def drop_stored(
    unique: pa.Table,
    traces: dict[bytes, TracePartial],
    stored_traces: Collection[bytes],
    stored_spans: Sequence[tuple[Any, ...]],
) -> tuple[pa.Table, dict[bytes, TracePartial]]:
    """The spans still to store and their per-trace summaries, with totals complete.

    ``stored_traces``: the write's traces that already have stored spans; ``stored_spans``:
    those spans, as ``STORED_SPAN_COLUMNS`` rows. A span already stored (an exporter retrying)
    is dropped and not counted again. Totals are leaf-only over the whole trace, so a trace
    that already had spans, or whose partials carry none, gets them recomputed over its stored
    and new spans together; a trace that already had spans also gets its root and stand-in
    chosen again among all of them (what ``merged_summary`` keeps)."""
    fresh = without(unique, {(row[0], row[1]) for row in stored_spans})
    if fresh is not unique:
        traces = summarize_table(fresh)
    stale = {t for t, p in traces.items() if p.totals is None or t in stored_traces}
    if stale:
        rows = [row for row in stored_spans if row[0] in stale]
        columns = {name: fresh[name].to_pylist() for name in STORED_SPAN_COLUMNS}
        rows += [row for row in zip(*columns.values(), strict=True) if row[0] in stale]
        for trace_id, totals in totals_by_trace(rows).items():
            traces[trace_id].totals = totals
        for trace_id, head in _heads(row for row in rows if row[0] in stored_traces).items():
            traces[trace_id].take_head(head)
    return fresh, traces


def _heads(rows: Iterable[tuple[Any, ...]]) -> dict[bytes, TracePartial]:
    """Per trace, the root and stand-in among ``STORED_SPAN_COLUMNS`` rows (counts unused)."""
    heads: dict[bytes, TracePartial] = {}
    for row in rows:
        name, service, start_ns = row[_HEAD : _HEAD + 3]
        span = span_partial(row[0], row[1], row[2], name, service, start_ns, start_ns, 0)
        merge_into(heads, [span])
    return heads


def merged_summary(stored: TracePartial, new: TracePartial) -> TracePartial:
    """A stored trace summary with the summary of its newly stored spans folded in: counts
    add up, the end follows the spans, and the root, stand-in, start and totals are the new
    ones (which ``drop_stored`` chose and computed over the whole trace)."""
    new.span_count += stored.span_count
    new.error_count += stored.error_count
    new.end_ns = max(new.end_ns, stored.end_ns)
    return new
