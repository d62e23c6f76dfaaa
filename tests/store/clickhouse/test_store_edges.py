"""The ClickHouse store's edges: URLs, the missing-driver message, read limits and
cancellation, a closed store."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.deadline import Deadline
from tracepond.errors import (
    QueryCancelled,
    QueryMemoryLimit,
    QueryTimeout,
    StorageUnavailable,
    StoreReadError,
    TracepondError,
)
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.filters import Filters
from tracepond.model.records import SearchRequest
from tracepond.store.clickhouse._connection import parse_url
from tracepond.store.clickhouse._errors import read_error, write_error

from .stores import open_chdb_store


def test_urls() -> None:
    server = parse_url("clickhouse://writer:s%40cret@ch.example:9123/traces")
    assert (server.kind, server.host, server.port, server.database) == (
        "http",
        "ch.example",
        9123,
        "traces",
    )
    assert (server.username, server.password, server.secure) == ("writer", "s@cret", False)
    tls = parse_url("clickhouses://ch.example")
    assert (tls.secure, tls.port, tls.database, tls.username) == (
        True,
        8443,
        "tracepond",
        "default",
    )
    local = parse_url("chdb:///var/lib/tracepond")
    assert (local.kind, local.path, local.database) == ("chdb", "/var/lib/tracepond", "tracepond")
    assert parse_url("chdb:///d?database=other").database == "other"
    for bad in ("duckdb:///x.duckdb", "chdb://host/dir", "clickhouse://h/bad-name;drop"):
        with pytest.raises(TracepondError):
            parse_url(bad)


def test_importing_without_the_driver_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['clickhouse_connect'] = None\n"
        "try:\n    import tracepond.store.clickhouse\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install 'tracepond[clickhouse]'" in out


def test_engine_errors_map_to_the_contract() -> None:
    assert isinstance(read_error(DatabaseError("x", code=159), None), QueryTimeout)
    assert isinstance(read_error(DatabaseError("x", code=241), None), QueryMemoryLimit)
    assert isinstance(read_error(DatabaseError("x", code=394), None), QueryCancelled)
    assert isinstance(read_error(DatabaseError("x", code=62), None), StoreReadError)
    assert write_error(DatabaseError("x", code=349)).code == "storage_rejected"
    assert isinstance(write_error(DatabaseError("x", code=210)), StorageUnavailable)


def test_cancelling_stops_a_running_statement(tmp_path: Path) -> None:
    """A read that runs until stopped: the deadline is cancelled once the statement shows in
    system.processes, and the read raises QueryCancelled."""
    store = open_chdb_store(tmp_path)
    deadline = Deadline(None)
    outcome: list[BaseException] = []

    def endless() -> None:
        try:
            with store.cancellable(deadline):
                store._client().query(
                    "SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) % 7 = 3"
                )
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=endless)
    watcher = store._writer.client
    try:
        thread.start()
        while not watcher.query(
            "SELECT count() FROM system.processes WHERE query LIKE '%tracepond-read-%'"
            " AND query NOT LIKE '%system.processes%'"
        ).result_rows[0][0]:
            thread.join(0.05)
        deadline.cancel("disconnected")
        thread.join(60)
        assert not thread.is_alive()
        assert len(outcome) == 1
        assert isinstance(read_error(outcome[0], deadline), QueryCancelled)
        # The next read of the same thread works, and a cancelled deadline refuses at once.
        assert store.counts() == (0, 0)
        with pytest.raises(QueryCancelled), store.cancellable(deadline):
            pass
    finally:
        deadline.cancel("disconnected")
        thread.join(60)
        store.close()


def test_a_closed_store_refuses_writes_and_reads(tmp_path: Path) -> None:
    store = open_chdb_store(tmp_path)
    request = make_request([make_span(trace_id(), span_id(), "late")])
    decoded = SpanDecoder().decode(request)
    batch = batch_from_table(to_arrow(decoded.rows), decoded.rows.origins)
    store.close()
    assert store.health().state == "closed"
    with pytest.raises(StorageUnavailable):
        store.write([batch])
    with pytest.raises(StorageUnavailable):
        store.counts()


def test_a_later_page_that_comes_back_empty_still_counts_the_matches(tmp_path: Path) -> None:
    """A search with span conditions counts its matches in the page's own statement; a page
    past the last match (its traces deleted since the first page) has no row to carry the
    count, which is then counted apart."""
    store = open_chdb_store(tmp_path)
    try:
        ids = [trace_id() for _ in range(3)]
        spans = [make_span(t, span_id(), f"needle {i}") for i, t in enumerate(ids)]
        decoded = SpanDecoder().decode(make_request(spans))
        store.write([batch_from_table(to_arrow(decoded.rows), decoded.rows.origins)])
        first = store.search_traces(SearchRequest(Filters(text="NEEDLE"), limit=1))
        assert (len(first.rows), first.count, first.capped) == (1, 3, False)
        later = [t for t in ids if t != first.rows[0].trace_id]
        assert store.delete_traces("default", later) == 2
        rest = store.search_traces(
            SearchRequest(Filters(text="NEEDLE"), limit=1, after=first.next_after)
        )
        assert (rest.rows, rest.count, rest.next_after) == ([], 1, None)
    finally:
        store.close()
