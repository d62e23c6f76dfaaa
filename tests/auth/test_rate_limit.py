"""Repeated failed key attempts from one address are answered 429 with Retry-After (and
RESOURCE_EXHAUSTED on gRPC), while another address is not affected; the table is bounded."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import httpx

from conftest import TracepondProcess
from tracepond.auth.limiter import FailureLimiter

from .keys import bearer, initial_admin_key, unknown_key


def client_from(address: str) -> httpx.Client:
    # The whole of 127.0.0.0/8 is loopback on Linux: a second "client address" of our own.
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_failed_attempts_from_one_address_are_slowed_down_alone(
    start_tracepond: Callable[..., TracepondProcess],
) -> None:
    server = start_tracepond("--auth", "on", env={"TRACEPOND_AUTH_FAILURES_PER_MINUTE": "3"})
    admin = initial_admin_key(server)
    url = f"{server.url}/api/traces"
    with client_from("127.0.0.1") as attacker, client_from("127.0.0.2") as other:
        statuses = [attacker.get(url, headers=bearer(unknown_key())).status_code for _ in range(5)]
        assert statuses[:3] == [401, 401, 401]
        assert statuses[3:] == [429, 429]
        limited = attacker.get(url, headers=bearer(admin))  # even a good key, from there
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "too_many_attempts"
        # Sign-in is limited the same way.
        assert attacker.post(f"{server.url}/api/session", json={"key": admin}).status_code == 429
        assert other.get(url, headers=bearer(admin)).status_code == 200
    with grpc.insecure_channel(server.grpc) as channel:
        call = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        try:
            call(b"", metadata=(("authorization", f"Bearer {admin}"),), timeout=30)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        else:
            raise AssertionError("gRPC from the limited address was not slowed down")


def test_the_failure_table_is_bounded() -> None:
    limiter = FailureLimiter(per_minute=2, max_clients=100)
    for n in range(10_000):
        limiter.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(limiter) == 100
    limiter.failed("192.0.2.1")
    limiter.failed("192.0.2.1")
    assert limiter.retry_after("192.0.2.1") is not None
    assert limiter.retry_after("192.0.2.2") is None
