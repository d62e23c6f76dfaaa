"""The writer's checkpoints land on DuckDB row-group boundaries (``store/_checkpoints.py``)."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from store.conformance.build import batch_of
from tracepond.errors import TracepondError
from tracepond.ingest.pipeline import WritePipeline
from tracepond.model.spans import SpanBatch
from tracepond.store._checkpoints import ROW_GROUP_ROWS, parse_size
from tracepond.store.duckdb_store import DuckDBStore

CHUNK = 4096  # spans per batch; ROW_GROUP_ROWS is 30 of them


def spans(count: int) -> SpanBatch:
    trace = trace_id()
    return batch_of(make_request([make_span(trace, span_id()) for _ in range(count)]))


def open_store(path: Path, threshold: str) -> DuckDBStore:
    return DuckDBStore(path, memory_limit="128MB", threads=1, checkpoint_threshold=threshold)


def store_with(path: Path, threshold: str, batches: list[SpanBatch]) -> DuckDBStore:
    """A store at ``path`` that has committed each of ``batches`` on its own."""
    store = open_store(path, threshold)
    for batch in batches:
        store.write([batch])
    return store


def row_groups(store: DuckDBStore) -> list[tuple[int, bool]]:
    """(rows, on disk) of each row group of the spans table, as DuckDB sees it right now (the
    store's own connection: a second one cannot open the file while the store has it)."""
    cursor = store._con.cursor()
    try:
        return cursor.execute(
            "SELECT sum(count)::BIGINT, bool_and(persistent) FROM pragma_storage_info('spans')"
            " WHERE column_path = '[0]' GROUP BY row_group_id ORDER BY row_group_id"
        ).fetchall()
    finally:
        cursor.close()


def wal_bytes(path: Path) -> int:
    wal = Path(f"{path}.wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.fixture(scope="module")
def chunks() -> list[SpanBatch]:
    """One row group's worth of spans in CHUNK-span batches, and one more batch."""
    return [spans(CHUNK) for _ in range(ROW_GROUP_ROWS // CHUNK + 1)]


@pytest.fixture(scope="module")
def threshold(chunks: list[SpanBatch], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A threshold the WAL passes two thirds into the first row group: DuckDB's own backstop (at
    twice the threshold) must not fire before the row group is full."""
    path = tmp_path_factory.mktemp("measure") / "m.duckdb"
    store = open_store(path, "10GB")
    for batch in chunks[:20]:
        store.write([batch])
    measured = wal_bytes(path)
    store.close()
    return f"{measured} bytes"


def test_row_group_size_is_duckdbs(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "rg.duckdb")) as con:
        con.execute("CREATE TABLE t AS SELECT range AS n FROM range(300000)")
        con.execute("CHECKPOINT")
        sizes = con.execute(
            "SELECT sum(count) FROM pragma_storage_info('t') WHERE column_path = '[0]'"
            " GROUP BY row_group_id ORDER BY row_group_id"
        ).fetchall()
    assert [s for (s,) in sizes] == [ROW_GROUP_ROWS, ROW_GROUP_ROWS, 300000 - 2 * ROW_GROUP_ROWS]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("256MB", 256_000_000),
        ("256MiB", 256 * 2**20),
        ("1.5GB", 1_500_000_000),
        (" 2 gib ", 2 * 2**30),
        ("1000 bytes", 1000),
        ("4096", 4096),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1MB", "12 parsecs", "MB"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)


def test_an_invalid_threshold_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TracepondError, match="invalid checkpoint threshold"):
        open_store(tmp_path / "new" / "x.duckdb", "a lot")
    assert not (tmp_path / "new").exists()


def test_checkpoint_waits_for_the_row_group_boundary(
    tmp_path: Path, chunks: list[SpanBatch], threshold: str
) -> None:
    path = tmp_path / "s.duckdb"
    store = open_store(path, threshold)
    full, extra = chunks[:-1], chunks[-1]
    wal_sizes = []
    for batch in full:
        store.write([batch])
        wal_sizes.append(wal_bytes(path))
    # Past the threshold, yet no checkpoint in the middle of the row group: the WAL only grew.
    assert wal_sizes == sorted(wal_sizes)
    assert wal_sizes[-1] >= parse_size(threshold)
    assert row_groups(store) == [(ROW_GROUP_ROWS, False)]
    assert store.commit_room() == ROW_GROUP_ROWS  # at the boundary: due now, a whole group free
    store.write([extra])  # checkpoints first, then commits into a fresh row group
    assert row_groups(store) == [(ROW_GROUP_ROWS, True), (CHUNK, False)]
    assert wal_bytes(path) < wal_sizes[0] * 2
    assert store.commit_room() is None
    store.close()


def test_a_write_that_would_cross_the_boundary_checkpoints_first(
    tmp_path: Path, chunks: list[SpanBatch], threshold: str
) -> None:
    store = store_with(tmp_path / "s.duckdb", threshold, chunks[:-3])  # two chunks short
    room = store.commit_room()
    assert room == 2 * CHUNK  # due: the room left before the boundary
    crossing = spans(room + 1)
    store.write([crossing])
    filled = ROW_GROUP_ROWS - room
    assert row_groups(store) == [(filled, True), (room + 1, False)]
    store.close()


def test_below_the_threshold_a_boundary_is_no_reason(
    tmp_path: Path, chunks: list[SpanBatch]
) -> None:
    store = store_with(tmp_path / "s.duckdb", "10GB", chunks)
    assert store.commit_room() is None
    assert row_groups(store) == [(ROW_GROUP_ROWS, False), (CHUNK, False)]
    store.close()


def test_a_reopened_store_counts_the_rows_already_stored(
    tmp_path: Path, chunks: list[SpanBatch], threshold: str
) -> None:
    path = tmp_path / "s.duckdb"
    store = open_store(path, threshold)
    store.write(chunks[:3])
    store.close()  # a clean close checkpoints: the 3 chunks are on disk
    store = store_with(path, threshold, chunks[3:-1])
    # The row group is full (3 + 27 chunks); the policy knew about the first three.
    assert store.commit_room() == ROW_GROUP_ROWS
    store.close()


def test_the_writer_stops_a_commit_group_at_the_boundary(
    tmp_path: Path, chunks: list[SpanBatch], threshold: str
) -> None:
    store = store_with(tmp_path / "s.duckdb", threshold, chunks[:-4])  # three chunks short
    assert store.commit_room() == 3 * CHUNK
    halves = [spans(CHUNK // 2) for _ in range(8)]  # 4 chunks' worth: one more than fits
    pipeline = WritePipeline(
        store, housekeeping=store, max_queued_spans=10**6, max_commit_spans=10**6
    )
    futures = [pipeline.submit(batch) for batch in halves]  # all queued before the writer starts
    pipeline.start()
    for future in futures:
        future.result(timeout=60)
    pipeline.stop()
    assert pipeline.stats.commit_sizes == [3 * CHUNK, CHUNK]
    assert row_groups(store) == [(ROW_GROUP_ROWS, True), (CHUNK, False)]
    assert not [t for t in threading.enumerate() if t.name == "tracepond-writer"]
    store.close()


def test_an_idle_checkpoint_mid_row_group_is_mended_at_the_next_boundary(
    tmp_path: Path, chunks: list[SpanBatch], threshold: str
) -> None:
    # The writer's idle checkpoint lands wherever ingest paused. DuckDB then starts a new row
    # group for the next spans, and the next checkpoint at a boundary merges them back into
    # full row groups: from there on, checkpoints are aligned again.
    store = store_with(tmp_path / "s.duckdb", threshold, chunks[:5])
    store.checkpoint()
    assert row_groups(store) == [(5 * CHUNK, True)]
    for batch in chunks[5:-1]:
        store.write([batch])
    assert row_groups(store) == [(5 * CHUNK, True), (ROW_GROUP_ROWS - 5 * CHUNK, False)]
    assert store.commit_room() == ROW_GROUP_ROWS  # the WAL passed the threshold at the boundary
    store.write([chunks[-1]])
    assert row_groups(store) == [(ROW_GROUP_ROWS, True), (CHUNK, False)]
    store.close()
