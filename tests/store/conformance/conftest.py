"""The stores the conformance suite runs against, and its shared fixtures.

Add a store by appending a factory to ``STORES``: ``factory(path)`` opens (or reopens) the store
whose data lives in the directory ``path``. Every test of the package runs once per store.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from store.clickhouse.stores import open_chdb_store, open_server_store
from tracepond.store.contract import Store
from tracepond.store.duckdb_store import DuckDBStore

from .seed import Seeded, seed_store


class ConformanceStore(Store, Protocol):
    """What the suite calls: the whole contract (``store.contract.Store``: writer, reader,
    maintenance and capabilities)."""


StoreFactory = Callable[[Path], ConformanceStore]


def duckdb_store(path: Path) -> ConformanceStore:
    return DuckDBStore(path / "conformance.duckdb", memory_limit="128MB", threads=1)


STORES: list[Any] = [pytest.param(duckdb_store, id="duckdb")]

# -- ClickHouse (issue #21, part 2) ----------------------------------------------------------
# On chdb (the ClickHouse engine in-process: one engine directory per test process, a database
# per store, tests/store/clickhouse/stores.py), and on the server of
# TRACEPOND_TEST_CLICKHOUSE_URL when it is set (skipped with that reason otherwise).
if importlib.util.find_spec("chdb") is not None:

    def chdb_store(path: Path) -> ConformanceStore:
        return open_chdb_store(path)  # type: ignore[no-any-return]

    STORES.append(pytest.param(chdb_store, id="chdb"))


def clickhouse_store(path: Path) -> ConformanceStore:
    return open_server_store(path)  # type: ignore[no-any-return]


STORES.append(pytest.param(clickhouse_store, id="clickhouse"))
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=STORES)
def factory(request: pytest.FixtureRequest) -> StoreFactory:
    """Module-scoped, so that the tests of a module run store by store and share one seed."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def store(factory: StoreFactory, tmp_path: Path) -> Iterator[ConformanceStore]:
    """An empty store of its own, for tests that write."""
    opened = factory(tmp_path)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def seeded(factory: StoreFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The shared dataset (seed.py), written once per module and store. Read-only: tests that
    write use ``store``."""
    opened = factory(tmp_path_factory.mktemp("seeded"))
    try:
        yield seed_store(opened)
    finally:
        opened.close()
