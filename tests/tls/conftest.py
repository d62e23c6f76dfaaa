"""Certificates for the TLS tests: one private CA for the session (tests/tls/certs.py)."""

from __future__ import annotations

import pytest

from .certs import Certs, make_certs


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))
