"""The store survives failed checkpoints and large spans, and tells retryable write failures
from data it cannot store (issue #18). Faults are real DuckDB failures: a checkpoint run under
a memory limit too small for what it must write invalidates the database, as a full disk does."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from store.conformance.build import batch_of
from tracepond.conventions import batch_from_table
from tracepond.errors import StorageRejected, StorageUnavailable, TracepondError
from tracepond.ingest._limits import SpanLimits
from tracepond.ingest.decoding import InlineDecoder
from tracepond.ingest.pipeline import WritePipeline
from tracepond.ingest.service import IngestService
from tracepond.model.records import WriteResult
from tracepond.model.spans import SpanBatch
from tracepond.store.duckdb_store import DuckDBStore

MB = 1_000_000
WAIT_SECONDS = 60.0


def open_store(path: Path, **options: object) -> DuckDBStore:
    return DuckDBStore(path, memory_limit="64MB", threads=1, **options)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    opened = open_store(tmp_path / "recovery.duckdb")
    yield opened
    opened.close()


def large_span(trace: bytes, value_bytes: int) -> SpanBatch:
    """One span whose attributes JSON is ``value_bytes`` long, in 3 kB strings (a long
    document list, say)."""
    values = [f"{i:06d}" + "x" * 2994 for i in range(value_bytes // 3000)]
    return batch_of(make_request([make_span(trace, span_id(), attributes={"documents": values})]))


def small_span(trace: bytes) -> SpanBatch:
    return batch_of(make_request([make_span(trace, span_id(), "small")]))


def unstorable() -> SpanBatch:
    """Two spans one of which has no name: the database refuses it (NOT NULL), however often it
    is retried. (The decoder never makes such a row; the store must still answer it right.)"""
    trace = trace_id()
    table = batch_of(make_request([make_span(trace, span_id()), make_span(trace, span_id())])).table
    index = table.schema.get_field_index("name")
    table = table.set_column(index, "name", pa.array(["ok", None], pa.string()))
    return batch_from_table(table, {})


def invalidate_with_a_failed_checkpoint(store: DuckDBStore) -> None:
    """A checkpoint that cannot get the memory it needs: DuckDB invalidates the database. The
    limit is lowered as far as DuckDB lets it: to just above what the large values hold, and the
    store is kept from raising it for the checkpoint."""
    raise_limit = store._set_memory_limit
    store._set_memory_limit = lambda size: None  # type: ignore[method-assign]
    for limit_mb in range(1, 64):
        try:
            store._con.execute(f"SET memory_limit = '{limit_mb}MB'")
            break
        except duckdb.OutOfMemoryException:
            continue
    try:
        with pytest.raises(StorageUnavailable):
            store.checkpoint()
    finally:
        store._set_memory_limit = raise_limit  # type: ignore[method-assign]


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_rejected_batch_fails_alone_and_its_neighbours_commit(store: DuckDBStore) -> None:
    pipeline = WritePipeline(
        store, housekeeping=store, max_queued_spans=1000, max_commit_spans=1000
    )
    first, second = trace_id(), trace_id()
    # Queued before the writer starts, so that the three form one commit group.
    futures: list[Future[WriteResult]] = [
        pipeline.submit(small_span(first)),
        pipeline.submit(unstorable()),
        pipeline.submit(small_span(second)),
    ]
    pipeline.start()
    try:
        assert futures[0].result(WAIT_SECONDS).inserted == 1
        assert futures[2].result(WAIT_SECONDS).inserted == 1
        error = futures[1].exception(WAIT_SECONDS)
        # Not StorageUnavailable: exporters would retry the same data forever.
        assert isinstance(error, StorageRejected), repr(error)
        assert error.http_status == 500
    finally:
        pipeline.stop()
    assert len(store.trace_spans(first)) == len(store.trace_spans(second)) == 1
    # Rejected data is no fault of the store.
    assert store.health().writable


def test_a_failed_checkpoint_is_recovered_without_a_restart(store: DuckDBStore) -> None:
    acknowledged = [trace_id() for _ in range(3)]
    for trace in acknowledged:
        store.write([large_span(trace, 2 * MB)])
    invalidate_with_a_failed_checkpoint(store)
    health = store.health()
    assert health.state == "recovering" and "checkpoint" in health.reason
    with pytest.raises(StorageUnavailable):
        store.write([small_span(trace_id())])
    with pytest.raises(StorageUnavailable):
        store.trace_spans(acknowledged[0])

    assert store.recover()
    assert store.health().writable
    for trace in acknowledged:
        assert len(store.trace_spans(trace)) == 1
    later = trace_id()
    store.write([small_span(later)])
    store.checkpoint()
    assert store.trace_summary(later) is not None


def test_the_writer_recovers_the_store_by_itself_and_loses_nothing(store: DuckDBStore) -> None:
    pipeline = WritePipeline(
        store, housekeeping=store, max_queued_spans=1000, max_commit_spans=1000
    )
    pipeline.start()
    try:
        acknowledged = [trace_id() for _ in range(3)]
        for trace in acknowledged:
            pipeline.submit(large_span(trace, 2 * MB)).result(WAIT_SECONDS)
        invalidate_with_a_failed_checkpoint(store)
        wait_for(lambda: store.health().writable, "the writer to reopen the store")
        later = trace_id()
        assert pipeline.submit(small_span(later)).result(WAIT_SECONDS).inserted == 1
    finally:
        pipeline.stop()
    for trace in [*acknowledged, later]:
        assert len(store.trace_spans(trace)) == 1
    # The reopened database is the one on disk: a fresh open sees the same.
    store.close()
    again = open_store(store.path)
    try:
        assert all(again.trace_summary(t) is not None for t in [*acknowledged, later])
    finally:
        again.close()


def test_memory_is_sized_for_the_largest_span(tmp_path: Path) -> None:
    path = tmp_path / "sized.duckdb"
    store = DuckDBStore(path, memory_limit="16MB", threads=1, max_row_bytes=12 * MB)
    trace = trace_id()
    try:
        # Committing a 12 MB span needs ~27 MB of buffer pool (2N + 3 MB, measured).
        store.write([large_span(trace, 12 * MB)])
        limit = store._con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        assert limit != "15.2 MiB"
        store.checkpoint()
    finally:
        store.close()
    # Never below the configured limit.
    assert DuckDBStore(tmp_path / "b.duckdb", memory_limit="256MB").memory_bytes == 256 * MB


def test_large_spans_since_the_last_checkpoint_add_up(tmp_path: Path) -> None:
    """Large values stay in memory until a checkpoint; five 4 MB spans do not fit in a 25 MB
    buffer pool together, so the store checkpoints before the one that would not fit. (Not
    many more: a checkpoint that lands inside a row group reads that row group's large values
    back, and those add up too; docs/operate.md.)"""
    path = tmp_path / "pinned.duckdb"
    store = DuckDBStore(path, memory_limit="24MB", threads=1, max_row_bytes=4 * MB)
    traces = [trace_id() for _ in range(5)]
    try:
        for trace in traces:
            store.write([large_span(trace, 4 * MB)])
        store.checkpoint()
        assert store.health().writable
        assert all(len(store.trace_spans(t)) == 1 for t in traces)
    finally:
        store.close()


def test_after_a_crash_the_wal_of_large_spans_replays(tmp_path: Path) -> None:
    path = tmp_path / "replay.duckdb"
    store = DuckDBStore(path, memory_limit="16MB", threads=1, max_row_bytes=12 * MB)
    trace = trace_id()
    store.write([large_span(trace, 12 * MB)])
    # A crash: the WAL is left as it is (copied while the store still has it open).
    crashed = tmp_path / "crashed.duckdb"
    crashed.write_bytes(path.read_bytes())
    Path(f"{crashed}.wal").write_bytes(Path(f"{path}.wal").read_bytes())
    store.close()
    again = DuckDBStore(crashed, memory_limit="16MB", threads=1, max_row_bytes=12 * MB)
    try:
        assert len(again.trace_spans(trace)) == 1
        again.checkpoint()
    finally:
        again.close()


async def test_an_unexpected_commit_failure_is_not_answered_retryable(
    store: DuckDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure outside the store contract (a bug) is a 500, never the 503 that would have
    exporters retry the same request forever."""

    def broken_write(batches: object) -> WriteResult:
        raise RuntimeError("a bug")

    monkeypatch.setattr(store, "write", broken_write)
    pipeline = WritePipeline(
        store, housekeeping=store, max_queued_spans=1000, max_commit_spans=1000
    )
    ingest = IngestService(InlineDecoder(SpanLimits()), pipeline)
    pipeline.start()
    try:
        body = make_request([make_span(trace_id(), span_id(), "s")]).SerializeToString()
        with pytest.raises(TracepondError) as raised:
            await ingest.export(body, "protobuf", "http")
        assert raised.value.http_status == 500
        assert raised.value.retry_after is None
    finally:
        pipeline.stop()
