"""Partial trace summaries with their leaf-only totals: the model's per-trace summary rules
(``model/summary.py``) plus the conventions' totals rule (``_totals.py``), for the decoder, the
stores and ``reindex`` alike."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from tracepond.conventions._model import SpanView, Usage
from tracepond.conventions._totals import trace_totals
from tracepond.model.spans import SpanBatch
from tracepond.model.summary import (
    SUMMARY_COLUMNS,
    TOTALS_COLUMNS,
    TracePartial,
    TraceTotals,
    partials_by_trace,
)
from tracepond.projects import DEFAULT_PROJECT


def summarize(
    columns: Mapping[str, Sequence[Any]], views: Sequence[SpanView] | None = None
) -> dict[bytes, TracePartial]:
    """Partial summaries by trace id, from span columns (trace_id, span_id, parent_span_id, name,
    service_name, start_ns, end_ns, status_code and the view columns). ``views``, when given,
    are the spans' normalized views (else they are rebuilt from the view columns)."""
    out = partials_by_trace(columns)
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


def summarize_table(table: pa.Table) -> dict[bytes, TracePartial]:
    return summarize({name: table[name].to_pylist() for name in SUMMARY_COLUMNS})


def batch_from_table(
    table: pa.Table, origins: dict[int, tuple[str, str]], project: str = DEFAULT_PROJECT
) -> SpanBatch:
    """A batch of the spans of ``table`` (stored columns), summarized on their own."""
    return SpanBatch(table, summarize_table(table), origins, project)
