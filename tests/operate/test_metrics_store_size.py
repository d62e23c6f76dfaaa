"""``tracepond_database_bytes`` comes from the store contract's ``database_bytes``: the gauge is
what the store says, and is left out when the store cannot say (None), the other store gauges
still reported. On a real DuckDB store opened through the factory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingest.otlp_build import chain, trace_id
from store.conformance.build import table
from tracepond.metrics import Metrics
from tracepond.store.contract import Store as SpanStore
from tracepond.store.open import open_store
from tracepond.store.url import StoreUrl


def gauges(metrics: Metrics) -> dict[str, float]:
    text = metrics.render().decode()
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


class SizeUnknown:
    """A store whose engine cannot tell its size: every other method is the real store's."""

    def __init__(self, store: SpanStore) -> None:
        self._store = store

    def database_bytes(self) -> int | None:
        return None

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SpanStore]:
    opened = open_store(StoreUrl.duckdb(tmp_path / "size.duckdb"))
    opened.write([table(*chain(trace_id(), 3))])
    yield opened
    opened.close()


def test_database_size_gauge_is_the_stores_answer(store: SpanStore) -> None:
    metrics = Metrics(store)
    try:
        found = gauges(metrics)
    finally:
        metrics.close()
    size = store.database_bytes()
    assert size is not None and size > 0
    assert found["tracepond_database_bytes"] == size
    assert (found["tracepond_stored_spans"], found["tracepond_stored_traces"]) == (3, 1)


def test_database_size_gauge_left_out_when_the_store_cannot_say(store: SpanStore) -> None:
    metrics = Metrics(SizeUnknown(store))  # type: ignore[arg-type]
    try:
        found = gauges(metrics)
    finally:
        metrics.close()
    assert "tracepond_database_bytes" not in found
    assert (found["tracepond_stored_spans"], found["tracepond_stored_traces"]) == (3, 1)
