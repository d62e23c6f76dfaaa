"""Stats in bounded memory on DuckDB: a million spans and a million traces, written by SQL into
the store's file, aggregated under the smallest buffer pool the store allows (16MB). Exact
quantiles held every duration of a cell and were refused there (503 query_memory_limit: at 10M
spans even 256MB per query did not do); sampled beyond QUANTILE_SAMPLE rows a cell, they answer
(rows checked by store/sampled_stats.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from store.sampled_stats import PRIME, SMALL, START, check, expected_cells, requests
from tracepond.store.duckdb_store import DuckDBStore

ROWS = 1_000_000

SPANS = f"""
INSERT INTO spans (trace_id, span_id, name, kind, start_ns, end_ns, duration_ns, status_code,
    service_name, attributes_json, events_json, links_json, ingested_ns, project, model)
SELECT (i // 16)::VARCHAR::BLOB, i::VARCHAR::BLOB, 'op', 1, {START} + i,
    {START} + i + i * {PRIME} % {ROWS}, i * {PRIME} % {ROWS}, 0, 'svc', '{{}}', '[]', '[]', 1,
    'default', CASE WHEN i < {SMALL} THEN 'small' WHEN i % 2 = 1 THEN 'odd' END
FROM range({ROWS}) r(i)
"""
TRACES = f"""
INSERT INTO traces (project, trace_id, root_name, service_name, start_ns, end_ns, span_count,
    error_count, first_ingested_ns, last_ingested_ns, input_tokens, output_tokens,
    total_tokens, models, llm_count, tool_count, retriever_count)
SELECT 'default', ('t' || i)::BLOB, 'op', 'svc', {START} + i, {START} + i + i * {PRIME} % {ROWS},
    1, 0, 1, 1, 0, 0, 0,
    CASE WHEN i < {SMALL} THEN ['small'] WHEN i % 2 = 1 THEN ['odd'] ELSE [] END, 0, 0, 0
FROM range({ROWS}) r(i)
"""


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stats-memory") / "filled.duckdb"
    DuckDBStore(path).close()
    con = duckdb.connect(str(path))
    try:
        con.execute(SPANS)
        con.execute(TRACES)
    finally:
        con.close()
    return path


@pytest.fixture
def store(filled: Path) -> Iterator[DuckDBStore]:
    opened = DuckDBStore(filled, memory_limit="16MB", threads=2)
    yield opened
    opened.close()


def test_span_stats_of_a_million_spans_answer_in_16mb(store: DuckDBStore) -> None:
    for request, bucket_ns in requests(ROWS):
        check(store.stats(request), expected_cells(ROWS, bucket_ns))


def test_trace_stats_of_a_million_traces_answer_in_16mb(store: DuckDBStore) -> None:
    for request, bucket_ns in requests(ROWS):
        check(store.trace_stats(request), expected_cells(ROWS, bucket_ns))


def test_sampled_quantiles_are_the_same_at_every_run(store: DuckDBStore) -> None:
    request, _ = next(requests(ROWS))
    assert store.stats(request) == store.stats(request)
    assert store.trace_stats(request) == store.trace_stats(request)
