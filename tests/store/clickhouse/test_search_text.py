"""Full text on ClickHouse reads a stored lowercase copy of each span's text (schema migration
3). Spans stored before the copy existed are found as well as new ones, by plain texts (which
the copy answers alone) and by texts JSON escapes (checked column by column as well)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.filters import Filters
from tracepond.model.records import SearchRequest
from tracepond.store.clickhouse import _migrate, _schema

from .stores import open_chdb_store

OLD_TRACE, NEW_TRACE = trace_id(), trace_id()


def _write(store: Any, trace: bytes, text: str) -> None:
    span = make_span(trace, span_id(), "answer", attributes={"output.value": text})
    decoded = SpanDecoder().decode(make_request([span]))
    store.write([batch_from_table(to_arrow(decoded.rows), decoded.rows.origins)])


def _found(store: Any, text: str) -> set[bytes]:
    page = store.search_traces(SearchRequest(Filters(text=text), limit=10))
    return {summary.trace_id for summary in page.rows}


def test_spans_stored_before_the_copy_existed_are_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def up_to_version_2(database: str, cluster: str | None) -> list[_schema.Migration]:
        return [m for m in _schema.migrations(database, cluster) if m.version <= 2]

    with monkeypatch.context() as patched:
        patched.setattr(_migrate, "migrations", up_to_version_2)
        old = open_chdb_store(tmp_path)
        assert old.schema_version == 2
        _write(old, OLD_TRACE, 'The Warranty covers "batteries" for two years')
        old.close()
    store = open_chdb_store(tmp_path)
    try:
        assert store.schema_version == 3
        _write(store, NEW_TRACE, 'No warranty: "batteries" excluded')
        assert _found(store, "WARRANTY") == {OLD_TRACE, NEW_TRACE}
        assert _found(store, "warranty covers") == {OLD_TRACE}
        assert _found(store, '"batteries" for') == {OLD_TRACE}
        assert _found(store, '"batteries" excluded') == {NEW_TRACE}
        # The copy joins name, attributes and events with newlines: no match across them.
        assert _found(store, "answer\n{") == set()
    finally:
        store.close()
