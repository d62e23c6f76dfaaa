"""Stats in bounded memory on the ClickHouse store (chdb): two million spans and as many
traces, made by SQL, aggregated under a 24MB limit per read. Exact quantiles held every duration
of a cell (29-37MB here); sampled beyond QUANTILE_SAMPLE rows a cell, by the DuckDB store's
rule, they answer (in 4-10MB, ~18MB at most in some runs; rows checked by
store/sampled_stats.py). A read that does hold everything still fails with QueryMemoryLimit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from store.sampled_stats import PRIME, SMALL, START, check, expected_cells, requests
from tracepond.errors import QueryMemoryLimit

from .stores import open_chdb_store

ROWS = 2_000_000
LIMIT = 24 * 1024 * 1024
# Each table in one part: reading several parts FINAL takes ~20MB of the limit by itself.
ONE_PART = (
    "SETTINGS max_insert_block_size = 4000000, min_insert_block_size_rows = 4000000,"
    " min_insert_block_size_bytes = 0"
)

SPANS = f"""
INSERT INTO {{db}}.spans (project, trace_id, span_id, name, kind, start_ns, end_ns, duration_ns,
    status_code, service_name, attributes_json, events_json, links_json, ingested_ns, version,
    model)
SELECT 'default', toFixedString('aaaaaaaaaaaaaaaa', 16), reinterpretAsFixedString(number + 1),
    'op', 1, {START} + number, {START} + number + number * {PRIME} % {ROWS},
    number * {PRIME} % {ROWS}, 0, 'svc', '{{{{}}}}', '[]', '[]', 1, 1,
    multiIf(number < {SMALL}, 'small', number % 2 = 1, 'odd', NULL)
FROM numbers({ROWS}) {ONE_PART}
"""
# Each trace in a session of its own: sessions group every trace (the read that holds all).
TRACES = f"""
INSERT INTO {{db}}.traces (project, trace_id, root_name, service_name, start_ns, end_ns,
    span_count, error_count, first_ingested_ns, last_ingested_ns, input_tokens, output_tokens,
    total_tokens, models, llm_count, tool_count, retriever_count, session_id)
SELECT 'default', reinterpretAsFixedString(toUInt128(number + 1)), 'op', 'svc',
    {START} + number, {START} + number + number * {PRIME} % {ROWS}, 1, 0, 1, 1, 0, 0, 0,
    multiIf(number < {SMALL}, ['small'], number % 2 = 1, ['odd'], []), 0, 0, 0, toString(number)
FROM numbers({ROWS}) {ONE_PART}
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    opened = open_chdb_store(tmp_path_factory.mktemp("stats-memory"), max_memory_usage=LIMIT)
    try:
        writer, db = opened._writer.client, opened.database
        writer.command(SPANS.format(db=db))
        writer.command(TRACES.format(db=db))
        yield opened
    finally:
        opened.close()


def test_span_stats_of_many_spans_answer_in_24mb(store: Any) -> None:
    for request, bucket_ns in requests(ROWS):
        check(store.stats(request), expected_cells(ROWS, bucket_ns))


def test_trace_stats_of_many_traces_answer_in_24mb(store: Any) -> None:
    for request, bucket_ns in requests(ROWS):
        check(store.trace_stats(request), expected_cells(ROWS, bucket_ns))


def test_sampled_quantiles_are_the_same_at_every_run(store: Any) -> None:
    request, _ = next(requests(ROWS))
    assert store.stats(request) == store.stats(request)
    assert store.trace_stats(request) == store.trace_stats(request)


def test_a_read_over_the_memory_limit_raises_query_memory_limit(store: Any) -> None:
    """Sessions group every trace, one a session: a hash table far over the limit."""
    with pytest.raises(QueryMemoryLimit):
        store.sessions(10, None, None, None)
