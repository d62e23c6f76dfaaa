"""One server per store (tests/conftest.py: ``store_kind``) for the search tests, seeded with the
known traces of seed.py and every captured real-producer request of tests/fixtures/conventions/;
the session's default server is per store here too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import StoreKind, TracepondProcess, per_store
from conventions.otlp_fixtures import FIXTURES
from conventions.test_through_server import captured_requests

from .seed import Seed, build_seed


@pytest.fixture(scope="module")
def tracepond_server(
    shared_server: Callable[[StoreKind], TracepondProcess], store_kind: StoreKind
) -> TracepondProcess:
    return shared_server(store_kind)


@pytest.fixture(scope="session")
def seeded_servers(
    launch_shared_tracepond: Callable[..., TracepondProcess],
) -> Callable[[StoreKind], tuple[TracepondProcess, Seed]]:
    """``seeded_servers(store)``: the seeded server of that store, seeded on first use."""

    def seeded(store: StoreKind) -> tuple[TracepondProcess, Seed]:
        server = launch_shared_tracepond(store=store)
        seed = build_seed()
        for request in seed.requests:
            response = server.post_otlp(request.SerializeToString())
            assert response.status_code == 200, response.text
        for producer in sorted(
            p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "scripts"
        ):
            for body, media, headers in captured_requests(producer):
                assert server.post_otlp(body, media, **headers).status_code == 200
        return server, seed

    return per_store(seeded)


@pytest.fixture(scope="module")
def seeded(
    seeded_servers: Callable[[StoreKind], tuple[TracepondProcess, Seed]], store_kind: StoreKind
) -> tuple[TracepondProcess, Seed]:
    return seeded_servers(store_kind)


@pytest.fixture(scope="module")
def server(seeded: tuple[Any, Seed]) -> Any:
    return seeded[0]


@pytest.fixture(scope="module")
def seed(seeded: tuple[Any, Seed]) -> Seed:
    return seeded[1]


def ids(page: dict[str, Any]) -> set[str]:
    return {t["trace_id"] for t in page["traces"]}
