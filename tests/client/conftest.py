"""The client, export and schemathesis tests share one seeded server: the known traces of
tests/search/seed.py plus every captured real-producer request (tests/search/conftest.py)."""

from __future__ import annotations

from search.conftest import seed, seeded, seeded_servers, server

__all__ = ["seed", "seeded", "seeded_servers", "server"]
