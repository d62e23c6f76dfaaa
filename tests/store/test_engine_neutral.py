"""The modules every store shares (the contract, its write rules and page tokens) import no
database engine, so a second engine can reuse them without pulling in the first."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STORE = Path(__file__).resolve().parents[2] / "src" / "tracepond" / "store"
NEUTRAL = ("contract.py", "_rules.py", "_tokens.py")
ENGINES = ("duckdb", "chdb", "clickhouse_connect", "tracepond.store.duckdb_store")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("module", NEUTRAL)
def test_shared_store_modules_import_no_engine(module: str) -> None:
    found = imported(STORE / module)
    assert found, "the module was not read"
    engines = {
        name
        for name in found
        for engine in ENGINES
        if name == engine or name.startswith(f"{engine}.")
    }
    assert engines == set()
    assert not any(".clickhouse" in name for name in found)


def test_the_check_sees_an_engine_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import duckdb\n")
    assert "duckdb" in imported(probe)
