from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import TracepondProcess

from .keys import Keys, make_keys

# So that the many refusals of these tests are not slowed down (test_rate_limit.py tests that).
NO_LIMIT = {"TRACEPOND_AUTH_FAILURES_PER_MINUTE": "1000000"}


@pytest.fixture(scope="module")
def keyed_server(launch_shared_tracepond: Callable[..., TracepondProcess]) -> TracepondProcess:
    return launch_shared_tracepond("--auth", "on", "--decode-workers", "0", env=NO_LIMIT)


@pytest.fixture(scope="module")
def keys(keyed_server: TracepondProcess) -> Keys:
    return make_keys(keyed_server)
