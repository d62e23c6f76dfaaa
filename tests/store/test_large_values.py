"""Many spans with large string values: what DuckDB keeps pinned in memory until a checkpoint
adds up, and a checkpoint (or the WAL replay at the next open) needs several times those bytes.
The store sizes each checkpoint's and each replay's memory for them, commits a group whose large
values would not fit in parts, and so never fails a checkpoint and never invalidates the
database (issue #18: 32 concurrent 30 MiB requests of ~60 kB prompts broke a 64MB store)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from store.conformance.build import batch_of
from tracepond.model.spans import SpanBatch
from tracepond.store.duckdb_store import DuckDBStore

PROMPT = ("lorem ipsum dolor sit amet " * 2300)[:60_000]
REQUEST_SPANS = 160  # ~10 MB of large values a request


def prompts_request() -> SpanBatch:
    """One request of spans with a 60 kB prompt each, one trace each (a busy chat app)."""
    spans = [
        make_span(trace_id(), span_id(), "chat", attributes={"input.value": PROMPT})
        for _ in range(REQUEST_SPANS)
    ]
    return batch_of(make_request(spans))


def open_store(path: Path) -> DuckDBStore:
    return DuckDBStore(path, memory_limit="64MB", threads=1, max_row_bytes=1_000_000)


def recorded_memory_limits(store: DuckDBStore) -> list[int]:
    """Every memory limit the store sets from now on, in order (it still sets them)."""
    limits: list[int] = []
    set_limit = store._set_memory_limit

    def record(size: int) -> None:
        limits.append(size)
        set_limit(size)

    store._set_memory_limit = record  # type: ignore[method-assign]
    return limits


def test_groups_of_large_values_commit_and_checkpoint_under_a_small_memory_limit(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "large.duckdb")
    try:
        for _ in range(3):
            store.write([prompts_request() for _ in range(4)])  # ~40 MB of prompts a group
            store.checkpoint()
        assert store.health().state == "ok"
        assert store.counts()[0] == 3 * 4 * REQUEST_SPANS
    finally:
        store.close()


def test_a_wal_of_large_values_replays_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "crash.duckdb"
    store = open_store(path)
    for _ in range(4):  # large values already on disk, in the row group the WAL's rows join
        store.write([prompts_request() for _ in range(3)])
        store.checkpoint()
    for _ in range(3):
        store.write([prompts_request()])
    # Large values pile up in the WAL only to CHECKPOINT_PINNED_BYTES: one request's are there.
    assert (tmp_path / f"{path.name}.wal").stat().st_size > REQUEST_SPANS * len(PROMPT)
    # What a kill -9 leaves: the file and its WAL, copied while the store is still open.
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (path.name, f"{path.name}.wal"):
        shutil.copy(tmp_path / name, copy / name)
    store.close()
    reopened = open_store(copy / path.name)
    try:
        assert reopened.counts()[0] == 15 * REQUEST_SPANS
        reopened.write([prompts_request()])
        reopened.checkpoint()
        assert reopened.health().state == "ok"
    finally:
        reopened.close()


def test_large_values_are_checkpointed_once_they_pass_the_pinned_limit(tmp_path: Path) -> None:
    # Piling them up to the buffer pool's size made each checkpoint need a multiple of the
    # pool (the server's peak memory under 32 concurrent 30 MiB requests); past
    # CHECKPOINT_PINNED_BYTES they are checkpointed right after the commit that pinned them.
    path = tmp_path / "pinned.duckdb"
    store = DuckDBStore(path, memory_limit="256MB", threads=1, max_row_bytes=1_000_000)
    wal = tmp_path / f"{path.name}.wal"
    try:
        store.write([prompts_request()])  # ~10 MB: under the limit, stays in the WAL
        assert wal.stat().st_size > REQUEST_SPANS * len(PROMPT)
        store.write([prompts_request()])  # ~20 MB pinned: checkpointed before write returns
        assert not wal.exists() or wal.stat().st_size < len(PROMPT)
        assert store.health().state == "ok"
        assert store.counts()[0] == 2 * REQUEST_SPANS
    finally:
        store.close()


def test_one_request_of_more_large_values_than_a_checkpoint_takes_is_committed_in_parts(
    tmp_path: Path,
) -> None:
    # One 30 MB request was committed whole, then checkpointed under a limit raised to 5 times
    # its large values (the server's peak under 32 concurrent 30 MiB requests). It is committed
    # in parts of CHECKPOINT_PINNED_BYTES, each checkpointed on its own; its
    # traces' summaries still count every span, whichever part it was committed in.
    trace = trace_id()
    root = span_id()
    spans = [make_span(trace, root, "agent")] + [
        make_span(
            trace,
            span_id(),
            "chat",
            parent=root,
            attributes={
                "input.value": PROMPT,
                "gen_ai.operation.name": "chat",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 1,
            },
        )
        for _ in range(3 * REQUEST_SPANS)
    ]
    path = tmp_path / "parts.duckdb"
    store = DuckDBStore(path, memory_limit="128MB", threads=1, max_row_bytes=1_000_000)
    limits = recorded_memory_limits(store)
    try:
        assert store.write([batch_of(make_request(spans))]).inserted == len(spans)
        # Never the 5 times the whole request's values, nor the rewrite floor
        # (REWRITE_MEMORY_FACTOR): each part's checkpoint merges no row groups, and fits in the
        # configured pool.
        assert max(limits, default=0) <= store.memory_bytes
        summary = store.trace_summary(trace)
        assert summary is not None
        assert summary.span_count == len(spans)
        assert summary.input_tokens == 10 * 3 * REQUEST_SPANS
        assert store.health().state == "ok"
    finally:
        store.close()


def test_many_requests_of_large_values_in_a_row_never_fail_a_checkpoint(tmp_path: Path) -> None:
    # A checkpoint rewrites the large values already on disk in the table's last, part-filled
    # row group beside the new ones, so its memory grows with the requests committed in a row,
    # not just with the values pinned since the last checkpoint: the eighth 30 MB request of
    # ~60 kB prompts in a row failed its checkpoint under the 128MB pool, which invalidated the
    # database (the server then reopened it and replayed the WAL: its peak memory).
    path = tmp_path / "row.duckdb"
    store = DuckDBStore(path, memory_limit="128MB", threads=1, max_row_bytes=1_000_000)
    try:
        for written in range(1, 11):
            spans = [
                make_span(trace_id(), span_id(), "chat", attributes={"input.value": PROMPT})
                for _ in range(3 * REQUEST_SPANS)
            ]
            store.write([batch_of(make_request(spans))])  # raises once the database is invalid
            assert store.health().state == "ok", f"after request {written}"
        assert store.counts()[0] == 10 * 3 * REQUEST_SPANS
    finally:
        store.close()


def large_row_groups(store: DuckDBStore) -> list[tuple[int, list[int]]]:
    """(rows, blocks of its attributes column) of each row group of the spans table, as the
    store's own connection sees it (a second one cannot open the file)."""
    rows = store._con.execute(
        "SELECT sum(count)::BIGINT, list(DISTINCT block_id ORDER BY block_id)"
        " FROM pragma_storage_info('spans') WHERE column_name = 'attributes_json'"
        " GROUP BY row_group_id HAVING max(count) > 0 ORDER BY row_group_id"
    ).fetchall()
    return [(int(count), list(blocks)) for count, blocks in rows]


def thirty_megabytes() -> SpanBatch:
    spans = [
        make_span(trace_id(), span_id(), "chat", attributes={"input.value": PROMPT})
        for _ in range(3 * REQUEST_SPANS)
    ]
    return batch_of(make_request(spans))


def test_large_requests_in_a_row_never_rewrite_the_large_values_before_them(
    tmp_path: Path,
) -> None:
    # Each checkpoint after a large request merged the table's last row groups, rewriting the
    # large values of the requests before it (and pinning them while it did): the server's peak
    # memory grew with the large requests in a row. Those checkpoints leave what is on disk as
    # it is now; the idle checkpoint merges the row groups once, afterwards.
    store = DuckDBStore(tmp_path / "row.duckdb", memory_limit="128MB", threads=1)
    limits = recorded_memory_limits(store)
    try:
        store.write([thirty_megabytes()])
        before = large_row_groups(store)
        for written in range(2, 5):
            store.write([thirty_megabytes()])
            after = large_row_groups(store)
            assert after[: len(before)] == before, f"request {written} rewrote earlier ones"
            before = after
        # Nor did they need more than the configured pool (the rewrite floor is for merges).
        assert max(limits, default=0) <= store.memory_bytes
        # The idle checkpoint after the next write merges them, under the rewrite floor (DuckDB
        # checkpoints only a database with changes).
        store.write([batch_of(make_request([make_span(trace_id(), span_id(), "small")]))])
        store.checkpoint()
        assert len(large_row_groups(store)) < len(before)
        assert store.health().state == "ok"
        assert store.counts()[0] == 4 * 3 * REQUEST_SPANS + 1
    finally:
        store.close()


# ~480 MB of prompts: merging their row groups under the 128MB pool alone failed.
UNMERGED_REQUESTS = 16


def test_row_groups_left_unmerged_by_a_previous_run_are_merged_after_a_restart(
    tmp_path: Path,
) -> None:
    # A kill -9 right after large requests leaves their row groups unmerged; the first
    # checkpoint with merging after the restart, which knows nothing of them, must get the
    # memory for them anyway (a failed checkpoint invalidates the database).
    path = tmp_path / "unmerged.duckdb"
    store = DuckDBStore(path, memory_limit="128MB", threads=1)
    for _ in range(UNMERGED_REQUESTS):
        store.write([thirty_megabytes()])
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (path.name, f"{path.name}.wal"):
        if (tmp_path / name).exists():
            shutil.copy(tmp_path / name, copy / name)
    store.close()
    reopened = DuckDBStore(copy / path.name, memory_limit="128MB", threads=1)
    try:
        reopened.write([batch_of(make_request([make_span(trace_id(), span_id(), "small")]))])
        reopened.checkpoint()
        assert reopened.health().state == "ok"
        assert reopened.counts()[0] == UNMERGED_REQUESTS * 3 * REQUEST_SPANS + 1
    finally:
        reopened.close()
