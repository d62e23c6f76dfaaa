"""chdb for tests: one engine directory per test process, one database per store.

chdb hosts one engine path per process (a client on another directory is refused while any
client is open), so test stores are told apart by database, not by directory: the same ``path``
always names the same database, so reopening a store finds its data."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

_ENGINE_DIR: str | None = None


def engine_dir() -> str:
    global _ENGINE_DIR
    if _ENGINE_DIR is None:
        _ENGINE_DIR = tempfile.mkdtemp(prefix="tracepond-chdb-")
    return _ENGINE_DIR


def chdb_url(path: Path) -> str:
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return f"chdb://{engine_dir()}?database=t_{digest}"


def open_chdb_store(path: Path, **options: Any) -> Any:
    from tracepond.store.clickhouse import ClickHouseStore

    return ClickHouseStore.from_url(chdb_url(path), **options)
