"""The messy traces run through the API once per store (tests/conftest.py: ``store_kind``): the
session's default server here is the one of the test's store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import StoreKind, TracepondProcess


@pytest.fixture(scope="module")
def tracepond_server(
    shared_server: Callable[[StoreKind], TracepondProcess], store_kind: StoreKind
) -> TracepondProcess:
    return shared_server(store_kind)
