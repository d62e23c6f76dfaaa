"""The writer's filter of stored trace ids: it may only ever skip lookups of new traces."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ingest.otlp_build import make_span, span_id, trace_id
from store.conformance.build import table
from tracepond.model.records import WriteResult
from tracepond.store._known_traces import KnownTraceIds
from tracepond.store.duckdb_store import DuckDBStore


def test_no_false_negatives_across_growth() -> None:
    known = KnownTraceIds()
    stored = [os.urandom(16) for _ in range(50_000)]
    known.add(stored[:30_000])
    known.mark_loaded()
    known.add(stored[30_000:])  # past the first filter's capacity: a second one is added
    assert known.possibly_stored(stored) == stored


def test_new_ids_are_mostly_ruled_out() -> None:
    known = KnownTraceIds()
    known.add(os.urandom(16) for _ in range(65_536))
    known.mark_loaded()
    fresh = [os.urandom(16) for _ in range(20_000)]
    maybe = known.possibly_stored(fresh)
    assert maybe is not None and len(maybe) < 60  # ~0.06% expected at capacity


def test_unknown_until_loaded() -> None:
    known = KnownTraceIds()
    known.add([b"a" * 16])
    assert known.possibly_stored([b"b" * 16]) is None
    known.mark_loaded()
    assert known.possibly_stored([b"a" * 16, b"b" * 16]) == [b"a" * 16]


def _wait_loaded(store: DuckDBStore) -> None:
    deadline = time.monotonic() + 10
    while not store._known.loaded:  # the filter is what this test is about
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_traces_stored_before_a_reopen_still_merge_and_deduplicate(tmp_path: Path) -> None:
    path = tmp_path / "known.duckdb"
    trace, root, child = trace_id(), span_id(), span_id()
    first = DuckDBStore(path, memory_limit="64MB", threads=1)
    first.write([table(make_span(trace, root, "root"))])
    first.close()

    second = DuckDBStore(path, memory_limit="64MB", threads=1)
    try:
        second.write([table(make_span(trace_id(), span_id(), "other"))])  # starts the loading
        _wait_loaded(second)
        late = table(make_span(trace, root, "root"), make_span(trace, child, "c", parent=root))
        assert second.write([late]) == WriteResult(inserted=1, duplicates=1)
        summary = second.trace_summary(trace)
        assert summary is not None and summary.span_count == 2
        # Traces committed after the reopen are known too.
        assert second.write([late]) == WriteResult(inserted=0, duplicates=2)
    finally:
        second.close()


def test_writes_before_the_filter_is_loaded_look_every_id_up(tmp_path: Path) -> None:
    path = tmp_path / "unloaded.duckdb"
    trace, root = trace_id(), span_id()
    first = DuckDBStore(path, memory_limit="64MB", threads=1)
    first.write([table(make_span(trace, root, "root"))])
    first.close()

    second = DuckDBStore(path, memory_limit="64MB", threads=1)
    try:
        second._known = KnownTraceIds()  # a filter that never finishes loading
        again = table(make_span(trace, root, "root"))
        assert second.write([again]) == WriteResult(inserted=0, duplicates=1)
    finally:
        second.close()
