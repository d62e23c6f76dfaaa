"""One server for the search tests, seeded with the known traces of seed.py and every captured
real-producer request of tests/fixtures/conventions/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conventions.otlp_fixtures import FIXTURES
from conventions.test_through_server import captured_requests

from .seed import Seed, build_seed


@pytest.fixture(scope="session")
def seeded(launch_shared_tracepond: Callable[..., Any]) -> tuple[Any, Seed]:
    server = launch_shared_tracepond()
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


@pytest.fixture(scope="session")
def server(seeded: tuple[Any, Seed]) -> Any:
    return seeded[0]


@pytest.fixture(scope="session")
def seed(seeded: tuple[Any, Seed]) -> Seed:
    return seeded[1]


def ids(page: dict[str, Any]) -> set[str]:
    return {t["trace_id"] for t in page["traces"]}
