"""Trace summaries recomputed from stored spans, with the engine-neutral rules of
``ingest/_summary.py`` and ``conventions.trace_totals``.

After its insert is acknowledged, a writer reads the summary columns of EVERY stored span of
the traces it touched (one SELECT) and inserts the summaries computed from them. The summary
table keeps, per trace, the row computed from the most distinct spans (ReplacingMergeTree with
``span_count`` as version): spans are only ever added, so of two receivers writing spans of one
trace, the one whose SELECT ran last saw both inserts, and its summary (over the most spans)
is the one kept. No summary is read, modified and written back, so no update can be lost.
"""

from __future__ import annotations

from typing import Any, Final

import pyarrow as pa

from tracepond.conventions import TraceTotals, summarize
from tracepond.model.summary import SUMMARY_COLUMNS

# What a summary is computed from, per stored span.
SOURCE_COLUMNS: Final = (*SUMMARY_COLUMNS, "ingested_ns", "version")
# The summary table's columns, in the order ``summary_rows`` fills them.
SUMMARY_SCHEMA: Final = pa.schema(
    [
        ("project", pa.string()),
        ("trace_id", pa.binary(16)),
        ("root_span_id", pa.binary(8)),
        ("root_name", pa.string()),
        ("service_name", pa.string()),
        ("start_ns", pa.int64()),
        ("end_ns", pa.int64()),
        ("span_count", pa.uint64()),
        ("error_count", pa.uint64()),
        ("first_ingested_ns", pa.int64()),
        ("last_ingested_ns", pa.int64()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("total_tokens", pa.int64()),
        ("cost", pa.float64()),
        ("models", pa.list_(pa.string())),
        ("session_id", pa.string()),
        ("user_id", pa.string()),
        ("llm_count", pa.int32()),
        ("tool_count", pa.int32()),
        ("retriever_count", pa.int32()),
    ]
)


def summary_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    """``summary_rows`` as Arrow, the insert format (one C call per column)."""
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [pa.array(col, type=f.type) for col, f in zip(columns, SUMMARY_SCHEMA, strict=True)],
        schema=SUMMARY_SCHEMA,
    )


def first_copies(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per (trace_id, span_id): the one of the highest version, which is the copy
    stored first (two receivers may both have stored a span before either saw the other's)
    or the newest reindexed one, as reads return it."""
    version = SOURCE_COLUMNS.index("version")
    kept: dict[tuple[bytes, bytes], tuple[Any, ...]] = {}
    for row in rows:
        key = (row[0], row[1])
        known = kept.get(key)
        if known is None or row[version] > known[version]:
            kept[key] = row
    return list(kept.values())


def summary_rows(project: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Summary table rows for every trace among ``rows`` (SOURCE_COLUMNS of stored spans)."""
    spans = first_copies(rows)
    if not spans:
        return []
    columns = {name: [row[i] for row in spans] for i, name in enumerate(SOURCE_COLUMNS)}
    partials = summarize(columns)
    window: dict[bytes, tuple[int, int]] = {}
    for trace_id, ingested in zip(columns["trace_id"], columns["ingested_ns"], strict=True):
        first, last = window.get(trace_id, (ingested, ingested))
        window[trace_id] = (min(first, ingested), max(last, ingested))
    out = []
    for trace_id, partial in partials.items():
        totals = partial.totals if partial.totals is not None else TraceTotals()
        first, last = window[trace_id]
        out.append(
            (
                project,
                trace_id,
                partial.root_span_id,
                partial.name,
                partial.service,
                partial.first_start_ns,
                partial.end_ns,
                partial.span_count,
                partial.error_count,
                first,
                last,
                totals.input_tokens,
                totals.output_tokens,
                totals.total_tokens,
                totals.cost,
                totals.models,
                totals.session_id,
                totals.user_id,
                totals.llm_steps,
                totals.tool_steps,
                totals.retriever_steps,
            )
        )
    return out
