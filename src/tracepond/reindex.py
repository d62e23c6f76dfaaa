"""``tracepond reindex``: recompute every derived column from the raw attributes.

The normalized view (stored whole as JSON and as scalar columns: category, model, tokens,
cost, …) and the trace totals are derived at ingest by ``tracepond.conventions``. When its
mapping tables or the prices change (a tracepond with a newer price table, another
``--prices`` file), this brings stored data up to date: computed costs are priced again at
each span's start time, and trace totals (which sessions and stats sum) follow. Raw
attributes, events and every column the sender sent are never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tracepond.conventions import PriceTable, totals_by_trace
from tracepond.ingest._limits import SpanLimits
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.spans import DERIVED_COLUMNS, VIEW_COLUMNS
from tracepond.store.duckdb_store import DuckDBStore

SPAN_CHUNK = 20_000
TRACE_CHUNK = 5_000

Progress = Callable[[str, int, int], None]


def reindex(
    store: DuckDBStore, progress: Progress, prices: PriceTable | None = None
) -> tuple[int, int]:
    """Recompute view columns of every span (costs with ``prices``, else the bundled table),
    then totals of every trace; (spans, traces)."""
    spans = _reindex_spans(store, progress, prices)
    traces = _reindex_traces(store, progress)
    store.checkpoint()
    return spans, traces


def _reindex_spans(store: DuckDBStore, progress: Progress, prices: PriceTable | None) -> int:
    total = store.span_count()
    done = 0
    progress("spans", done, total)
    # The same calls and bounds as ingest, so both store the same (stored attributes are within
    # the default limits already; the view made from them is bounded again, as at ingest).
    decoder = SpanDecoder(limits=SpanLimits(), prices=prices)
    for chunk in store.raw_span_chunks(SPAN_CHUNK):
        columns: dict[str, list[Any]] = {name: [] for name in DERIVED_COLUMNS}
        for _, name, _kind, status, message, attributes, events, start_ns in chunk:
            stored, values = decoder.view_of(
                name,
                status,
                message or "",
                orjson.loads(attributes),
                orjson.loads(events),
                start_ns,
            )
            columns["view_json"].append(stored)
            for column, value in zip(VIEW_COLUMNS, values, strict=True):
                columns[column].append(value)
        store.update_view_columns([row[0] for row in chunk], columns)
        done += len(chunk)
        progress("spans", done, total)
    return done


def _reindex_traces(store: DuckDBStore, progress: Progress) -> int:
    total = store.counts()[1]
    done = 0
    progress("traces", done, total)
    for project, trace_ids in store.trace_id_chunks(TRACE_CHUNK):
        totals = totals_by_trace(store.tree_rows(project, trace_ids))
        store.update_totals(project, totals)
        done += len(trace_ids)
        progress("traces", done, total)
    return done
