"""The one place a store is constructed: ``open_store(url, options)`` opens the store a
``StoreUrl`` names (DuckDB, or the ClickHouse store on a server or on chdb). The server and
every command that opens a database go through it and use what it returns through the
contract, never an engine's class."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from tracepond.errors import InvalidStoreConfig, TracepondError
from tracepond.store.contract import Store
from tracepond.store.url import StoreUrl

CLICKHOUSE_EXTRA = "pip install 'tracepond[clickhouse]'"
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class StoreOptions:
    """Engine tuning from the settings: the ``duckdb_*`` fields and ``query_memory_limit`` tune
    the DuckDB store only (the defaults are its own), the ``clickhouse_*`` ones and
    ``query_timeout`` the ClickHouse store. ``max_row_bytes``: the largest span row the decoder
    can make, which DuckDB's memory is sized for."""

    duckdb_memory_limit: str = "256MB"
    duckdb_threads: int = 2
    duckdb_checkpoint_threshold: str = "64MB"
    duckdb_max_temp_size: str | None = None
    query_memory_limit: str | None = None
    max_row_bytes: int = 0
    # The ClickHouse store's: each read's time limit (seconds), cluster, insert quorum, and
    # each read's memory on the server (a size, e.g. 2GB).
    query_timeout: float | None = None
    clickhouse_cluster: str | None = None
    clickhouse_insert_quorum: int | str | None = None
    clickhouse_query_memory: str | None = None
    # The server-wide retention (--retention), which the ClickHouse store also applies as table
    # TTLs that drop whole day partitions (the retention task deletes the rest on time).
    retention_ns: int | None = None


def open_store(url: StoreUrl, options: StoreOptions | None = None) -> Store:
    """Open (and migrate) the store ``url`` names. ``InvalidStoreConfig`` when its engine is
    not installed; the engine's own ``TracepondError`` when it cannot be opened."""
    if url.engine == "duckdb":
        return _open_duckdb(url, options or StoreOptions())
    return _open_clickhouse(url, options or StoreOptions())


def _open_duckdb(url: StoreUrl, options: StoreOptions) -> Store:
    from tracepond.store.duckdb_store import DuckDBStore

    assert url.path is not None
    return DuckDBStore(
        url.path,
        memory_limit=options.duckdb_memory_limit,
        threads=options.duckdb_threads,
        checkpoint_threshold=options.duckdb_checkpoint_threshold,
        query_memory_limit=options.query_memory_limit,
        max_temp_size=options.duckdb_max_temp_size,
        max_row_bytes=options.max_row_bytes,
    )


def _open_clickhouse(url: StoreUrl, options: StoreOptions) -> Store:
    # An optional extra: imported only when a ClickHouse URL is given.
    try:
        from tracepond.store.clickhouse import (  # type: ignore[import-not-found,unused-ignore]
            ClickHouseStore,
        )
    except ImportError as exc:
        raise InvalidStoreConfig(
            f"the ClickHouse store needs `{CLICKHOUSE_EXTRA}` (for {url.display}: {exc})"
        ) from None
    if url.scheme == "chdb" and importlib.util.find_spec("chdb") is None:
        raise InvalidStoreConfig(
            f"a chdb:// store needs the chdb engine: `{CLICKHOUSE_EXTRA}` and `pip install chdb`"
        )
    try:
        store: Store = ClickHouseStore.from_url(url.secret_url(), **_clickhouse_options(options))
    except TracepondError as exc:
        raise _without_password(exc, url) from None
    return store


def _clickhouse_options(options: StoreOptions) -> dict[str, Any]:
    from tracepond.store._checkpoints import parse_size

    memory = options.clickhouse_query_memory
    retention = options.retention_ns
    return {
        "ttl_days": -(-retention // DAY_NS) if retention else None,
        "cluster": options.clickhouse_cluster,
        "insert_quorum": options.clickhouse_insert_quorum,
        "max_execution_time": options.query_timeout,
        "max_memory_usage": parse_size(memory) if memory else None,
    }


def _without_password(exc: TracepondError, url: StoreUrl) -> TracepondError:
    """The error, its message cleared of the URL's password (a driver may quote the URL);
    raised without its cause, whose traceback could hold it."""
    message = str(exc)
    if url.password:
        message = message.replace(url.password, "***")
    try:
        return type(exc)(message)
    except TypeError:  # an error type with more arguments than a message
        return TracepondError(message)
