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

import orjson

from tracepond.conventions import PriceTable
from tracepond.ingest._limits import SpanLimits
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.spans import DERIVED_COLUMNS, VIEW_COLUMNS
from tracepond.store.contract import Store

SPAN_CHUNK = 20_000
TRACE_CHUNK = 5_000

Progress = Callable[[str, int, int], None]


def reindex(store: Store, progress: Progress, prices: PriceTable | None = None) -> tuple[int, int]:
    """Recompute view columns of every span (costs with ``prices``, else the bundled table),
    then totals of every trace; (spans, traces)."""
    spans = _reindex_spans(store, progress, prices)
    traces = _reindex_traces(store, progress)
    store.checkpoint()
    return spans, traces


def _reindex_spans(store: Store, progress: Progress, prices: PriceTable | None) -> int:
    total = store.counts()[0]
    done = 0
    progress("spans", done, total)
    # The same calls and bounds as ingest, so both store the same (stored attributes are within
    # the default limits already; the view made from them is bounded again, as at ingest).
    decoder = SpanDecoder(limits=SpanLimits(), prices=prices)
    for chunk in store.raw_span_chunks(SPAN_CHUNK):
        columns: dict[str, list[object]] = {name: [] for name in DERIVED_COLUMNS}
        for span in chunk:
            stored, values = decoder.view_of(
                span.name,
                span.status_code,
                span.status_message or "",
                orjson.loads(span.attributes_json),
                orjson.loads(span.events_json),
                span.start_ns,
            )
            columns["view_json"].append(stored)
            for column, value in zip(VIEW_COLUMNS, values, strict=True):
                columns[column].append(value)
        store.replace_view_columns([span.key for span in chunk], columns)
        done += len(chunk)
        progress("spans", done, total)
    return done


def _reindex_traces(store: Store, progress: Progress) -> int:
    total = store.counts()[1]
    done = 0
    progress("traces", done, total)
    for project, trace_ids in store.trace_id_chunks(TRACE_CHUNK):
        store.recompute_totals(project, trace_ids)
        done += len(trace_ids)
        progress("traces", done, total)
    return done
