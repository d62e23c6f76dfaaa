"""ClickHouse stores for tests: on chdb (always), and on a real server when
``TRACEPOND_TEST_CLICKHOUSE_URL`` names one (skipped otherwise).

chdb hosts one engine path per process (a client on another directory is refused while any
client is open), so test stores are told apart by database, not by directory: the same ``path``
always names the same database, so reopening a store finds its data. On a server, each ``path``
is a database of its own too (``<the URL's database>_<hash>``)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

SERVER_URL_VARIABLE = "TRACEPOND_TEST_CLICKHOUSE_URL"
_ENGINE_DIR: str | None = None


def engine_dir() -> str:
    global _ENGINE_DIR
    if _ENGINE_DIR is None:
        _ENGINE_DIR = tempfile.mkdtemp(prefix="tracepond-chdb-")
    return _ENGINE_DIR


def _suffix(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]


def chdb_url(path: Path) -> str:
    return f"chdb://{engine_dir()}?database=t_{_suffix(path)}"


def open_chdb_store(path: Path, **options: Any) -> Any:
    pytest.importorskip("chdb")
    from tracepond.store.clickhouse import ClickHouseStore

    return ClickHouseStore.from_url(chdb_url(path), **options)


def open_server_store(path: Path, **options: Any) -> Any:
    """A store on the server of TRACEPOND_TEST_CLICKHOUSE_URL, in a fresh database for ``path``;
    the test is skipped when the variable is not set."""
    url = os.environ.get(SERVER_URL_VARIABLE)
    if not url:
        pytest.skip(f"{SERVER_URL_VARIABLE} is not set: no ClickHouse server to test against")
    from tracepond.store.clickhouse import ClickHouseStore
    from tracepond.store.clickhouse._connection import parse_url

    target = parse_url(url)
    target = dataclasses.replace(target, database=f"{target.database}_{_suffix(path)}")
    return ClickHouseStore(target, **options)
