"""The suite keeps up with the contract: every method of ``Store`` and of the maintenance
methods (``ConformanceStore``) is called by some test of this package, so a method added to
the contract without a conformance test fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from tracepond.store.contract import SpanReader, SpanWriter, StoreMaintenance

from .conftest import ConformanceStore

HERE = Path(__file__).parent


def contract_methods() -> set[str]:
    names: set[str] = set()
    for protocol in (SpanWriter, SpanReader, StoreMaintenance, ConformanceStore):
        names |= {
            name
            for name, member in inspect.getmembers(protocol, inspect.isfunction)
            if not name.startswith("_")
        }
    return names


def test_every_contract_method_is_called_by_the_suite() -> None:
    sources = "\n".join(
        path.read_text() for path in HERE.glob("*.py") if path.name != Path(__file__).name
    )
    called = set(re.findall(r"\.(\w+)\(", sources))
    assert contract_methods() - called == set()
    assert {
        "search_traces",
        "traces",
        "delete_traces",
        "api_keys",
        "cancellable",
        "recompute_totals",
        "projects_create",
    } <= contract_methods()
