"""The flags of every command that opens the store itself (``serve``, ``reindex``, and
``keys``, ``projects`` and ``delete`` without ``--url``): ``--store URL`` and its shorthand
``--db PATH`` (store/url.py; docs/operate.md, "The store"), and how such a command opens it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a command runs: `tracepond --help` stays quick
    from tracepond.server_settings import ServerSettings
    from tracepond.store.contract import Store

STORE_HELP = (
    "the store: duckdb:///path/file.duckdb, clickhouse://user:password@host:8123/database,"
    " clickhouses://... (TLS) or chdb:///path/to/dir (TRACEPOND_STORE; ./tracepond.duckdb)"
)
DB_HELP = "database file, short for --store duckdb://PATH (TRACEPOND_DB, ./tracepond.duckdb)"


def add_store_flags(parser: argparse.ArgumentParser | Any) -> None:
    """``--store`` and ``--db`` on ``parser`` (or on one of its argument groups)."""
    parser.add_argument("--store", help=STORE_HELP)
    parser.add_argument("--db", help=DB_HELP)


def open_for_command(settings: ServerSettings, hint: str, *, must_exist: bool = True) -> Store:
    """The store of ``settings`` for a command run beside (or instead of) the server.
    ``must_exist``: a DuckDB file that does not exist yet is an error, not a new database.
    Errors carry ``hint`` (what the user may try), except a missing optional extra."""
    from tracepond.errors import InvalidStoreConfig, TracepondError
    from tracepond.store.open import StoreOptions, open_store

    url = settings.store
    if must_exist and url.path is not None and url.engine == "duckdb" and not url.path.exists():
        raise TracepondError(f"no database at {url.display}")
    try:
        return open_store(url, StoreOptions(duckdb_memory_limit=settings.duckdb_memory_limit))
    except InvalidStoreConfig:
        raise
    except TracepondError as exc:
        raise TracepondError(f"{exc.message} ({hint})") from exc
