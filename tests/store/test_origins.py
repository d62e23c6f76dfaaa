"""Span origins (resource + scope JSON) are stored once each, whatever the number of spans,
writes, decoders or restarts; a write that fails stores none."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from ingest.otlp_build import key_values, make_request, make_span, span_id, trace_id
from store.conformance.build import batch_of
from tracepond.conventions import batch_from_table
from tracepond.errors import StorageRejected
from tracepond.ingest.decode import SpanDecoder, origin_id
from tracepond.model.spans import SpanBatch
from tracepond.store.duckdb_store import DuckDBStore


def batch(host: str, *names: str, scope_version: str = "") -> SpanBatch:
    spans = [make_span(trace_id(), span_id(), name) for name in names]
    request = make_request(spans, resource={"host.name": host})
    if scope_version:  # an origin is the resource and the scope's JSON (its attributes)
        scope = request.resource_spans[0].scope_spans[0].scope
        scope.attributes.extend(key_values({"scope.build": scope_version}))
    return batch_of(request)


def stored_origins(path: Path) -> list[tuple[int, str, str]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT * FROM origins ORDER BY id").fetchall()


def test_each_origin_is_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "o.duckdb"
    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    store.write([batch("a", "one", "two"), batch("a", "three")])
    store.write([batch("a", "four"), batch("b", "five"), batch("a", "six", scope_version="2")])
    store.close()
    store = DuckDBStore(path, memory_limit="64MB", threads=1)  # a restart knows them too
    store.write([batch("b", "seven")])
    store.close()
    origins = stored_origins(path)
    assert len(origins) == 3
    for key, resource_json, scope_json in origins:
        assert key == origin_id(resource_json, scope_json)
    with duckdb.connect(str(path), read_only=True) as con:
        spans, unresolved = con.execute(
            "SELECT count(*), count(*) FILTER (o.id IS NULL OR spans.resource_json IS NOT NULL)"
            " FROM spans LEFT JOIN origins o ON o.id = spans.origin_id"
        ).fetchone()
    assert (spans, unresolved) == (7, 0)


def test_a_failed_write_stores_no_origin_and_the_next_one_does(tmp_path: Path) -> None:
    path = tmp_path / "o.duckdb"
    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    good = batch("new-host", "good")
    rows = good.table.to_pylist()
    rows[0]["name"] = None  # violates NOT NULL: the database refuses the write mid-way
    bad = batch_from_table(pa.Table.from_pylist(rows, schema=good.table.schema), good.origins)
    with pytest.raises(StorageRejected):
        store.write([bad])
    # Same store, no restart: the origin it failed to store must not count as stored.
    store.write([good])
    store.close()
    assert [key for key, _, _ in stored_origins(path)] == list(good.origins)


def test_spans_all_rejected_leave_their_origin_out() -> None:
    valid = make_span(trace_id(), span_id(), "kept")
    invalid = make_span(trace_id(), span_id(), "")  # no name: rejected
    kept = make_request([valid], resource={"host.name": "kept"})
    dropped = make_request([invalid], resource={"host.name": "dropped"})
    kept.resource_spans.extend(dropped.resource_spans)
    decoded = SpanDecoder(1 << 20).decode(kept)
    assert decoded.rejected == 1
    ((resource_json, _),) = decoded.rows.origins.values()
    assert '"host.name":"kept"' in resource_json
