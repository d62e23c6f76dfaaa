"""The shared service whole (issue 20): TLS, API keys and projects on one server. Real OTel SDK
exporters configured only by the standard variables (OTEL_EXPORTER_OTLP_HEADERS for the key,
OTEL_EXPORTER_OTLP_CERTIFICATE for the private CA) send over TLS into the key's project; the
web view's sign-in cookie is Secure over https."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)

from auth.keys import bearer, initial_admin_key
from conftest import TracepondProcess

from .certs import Certs
from .test_server_tls import emit, https, tls_flags, trusting

WAIT = 30.0


def _project_trace(
    server: TracepondProcess,
    certs: Certs,
    key: str,
    project: str,
    trace_id: str,
    wait: float = WAIT,
) -> dict[str, Any] | None:
    """The trace in ``project``, asked at least once and for up to ``wait`` seconds while it
    may still be on its way to a commit."""
    with httpx.Client(base_url=https(server), verify=trusting(certs.ca), timeout=30) as http:
        deadline = time.monotonic() + wait
        while True:
            response = http.get(
                f"/api/traces/{trace_id}", params={"project": project}, headers=bearer(key)
            )
            if response.status_code == 200:
                return dict(response.json())
            assert response.status_code == 404, response.text
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


@pytest.fixture
def server(start_tracepond: Any, certs: Certs) -> TracepondProcess:
    started: TracepondProcess = start_tracepond(*tls_flags(certs), "--auth", "on")
    return started


def test_exporters_configured_by_the_standard_variables_send_over_tls_into_the_keys_project(
    server: TracepondProcess, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = initial_admin_key(server)
    with httpx.Client(base_url=https(server), verify=trusting(certs.ca), timeout=30) as http:
        made = http.post("/api/projects", json={"name": "shop"}, headers=bearer(admin))
        assert made.status_code == 201, made.text
        keys = http.post(
            "/api/keys",
            json={"project": "shop", "scope": "ingest", "name": "shop-app"},
            headers=bearer(admin),
        )
        assert keys.status_code == 201, keys.text
    ingest = keys.json()["key"]
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{ingest}")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", str(certs.ca))
    sent = {
        "http": emit(HttpExporter(endpoint=f"{https(server)}/v1/traces"), "over-https"),
        "grpc": emit(GrpcExporter(endpoint=f"https://{server.grpc}"), "over-grpc-tls"),
    }
    for protocol, trace_id in sent.items():
        tree = _project_trace(server, certs, admin, "shop", trace_id)
        assert tree is not None, f"{protocol}: not stored in the key's project"
        assert _project_trace(server, certs, admin, "default", trace_id, wait=0) is None

    # A wrong key over TLS is refused, and not retried: nothing is stored.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20tpk_wrong")
    refused = emit(HttpExporter(endpoint=f"{https(server)}/v1/traces"), "refused")
    # The export returned: an accepted span would be committed by now.
    assert _project_trace(server, certs, admin, "shop", refused, wait=0) is None


def test_sign_in_over_https_sets_a_secure_http_only_strict_cookie(
    server: TracepondProcess, certs: Certs
) -> None:
    admin = initial_admin_key(server)
    read = create_key_over_https(server, certs, admin)
    with httpx.Client(base_url=https(server), verify=trusting(certs.ca), timeout=30) as http:
        response = http.post("/api/session", json={"key": read}, headers={"Origin": https(server)})
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie, cookie


def create_key_over_https(server: TracepondProcess, certs: Certs, admin: str) -> str:
    with httpx.Client(base_url=https(server), verify=trusting(certs.ca), timeout=30) as http:
        response = http.post(
            "/api/keys",
            json={"project": "default", "scope": "read", "name": "reader"},
            headers=bearer(admin),
        )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key
