"""The Host check against DNS rebinding: a loopback server answers loopback names and the
configured ones only; a server bound elsewhere answers any Host unless some are configured."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.test_errors import assert_error
from conftest import TracepondProcess
from ingest.otlp_build import make_request, make_span, span_id, trace_id


def get(server: TracepondProcess, path: str, host: str) -> httpx.Response:
    return server.client.get(path, headers={"Host": host})


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:4318",
        "LOCALHOST.",
        "app.localhost:80",
        "127.0.0.1",
        "127.8.9.10:4318",
        "[::1]",
        "[::1]:4318",
    ],
)
def test_loopback_names_are_served(tracepond_server: TracepondProcess, host: str) -> None:
    assert get(tracepond_server, "/api/traces", host).status_code == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:4318",
        "localhost.attacker.example",
        "127.0.0.1.nip.io",
        "10.0.0.1",
        "",
    ],
)
def test_other_names_are_refused(tracepond_server: TracepondProcess, host: str) -> None:
    for path in ("/api/traces", "/", "/metrics", "/healthz"):
        assert_error(get(tracepond_server, path, host), 403, "host_not_allowed")
    body = make_request([make_span(trace_id(), span_id(), "rebound")]).SerializeToString()
    posted = tracepond_server.client.post(
        "/v1/traces",
        content=body,
        headers={"Host": host, "Content-Type": "application/x-protobuf"},
    )
    assert posted.status_code == 403


def test_configured_names_are_served(start_tracepond: Any) -> None:
    server = start_tracepond("--allowed-hosts", "traces.example, *.corp.example")
    for host in ("traces.example", "traces.example:4318", "a.corp.example", "localhost"):
        assert get(server, "/api/traces", host).status_code == 200, host
    for host in ("corp.example.evil", "other.example", "xcorp.example"):
        assert get(server, "/api/traces", host).status_code == 403, host


def test_the_env_var_configures_them_too(start_tracepond: Any) -> None:
    server = start_tracepond(env={"TRACEPOND_ALLOWED_HOSTS": "traces.example"})
    assert get(server, "/api/traces", "traces.example").status_code == 200
    assert get(server, "/api/traces", "other.example").status_code == 403


def test_policy_of_a_server_bound_elsewhere() -> None:
    from tracepond.api.hosts import HostPolicy

    anywhere = HostPolicy("0.0.0.0")
    assert anywhere.allows("attacker.example") and anywhere.allows(None)
    configured = HostPolicy("0.0.0.0", ["traces.example"])
    assert configured.allows("traces.example:443") and configured.allows("localhost")
    assert not configured.allows("attacker.example")
    assert HostPolicy("::1").checks and HostPolicy("127.0.0.2").checks
    assert not HostPolicy("192.168.1.5").checks


def test_host_names() -> None:
    from tracepond.api.hosts import host_name

    assert host_name("[::1]:4318") == "::1"
    assert host_name("Example.COM.:80") == "example.com"
    assert host_name("::1") == "::1"
