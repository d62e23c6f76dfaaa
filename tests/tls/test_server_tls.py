"""``tracepond serve --tls-cert/--tls-key``: both ports speak TLS with a certificate of a private CA
the test makes. Real OTel SDK exporters (HTTP and gRPC) trusting that CA deliver spans; the API
and the web view answer over https; plain-text clients and clients trusting another CA get
nothing; with ``--tls-client-ca`` a client without a certificate of that CA is refused."""

from __future__ import annotations

import os
import re
import ssl
import time
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from conftest import TracepondProcess

from .certs import Certs

WAIT = 60.0


@pytest.fixture(autouse=True)
def no_ca_bundle_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTel's own HTTP exporter sends through a requests Session, whose CA file (the exporter's
    certificate_file) requests replaces by REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE when either is set
    (requests#3829; tracepond's exporter works around it, tests/tls/test_sdk_tls.py)."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def trusting(ca: Any, cert: tuple[str, str] | None = None) -> ssl.SSLContext:
    """A client context trusting only ``ca`` (and presenting ``cert`` when given)."""
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        context.load_cert_chain(*cert)
    return context


def https(server: TracepondProcess) -> str:
    return f"https://{server.http}"


def tls_flags(certs: Certs) -> tuple[str, ...]:
    return ("--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key))


@pytest.fixture(scope="module")
def tls_server(launch_shared_tracepond: Callable[..., TracepondProcess], certs: Certs) -> Any:
    return launch_shared_tracepond(*tls_flags(certs))


def emit(exporter: SpanExporter, name: str) -> str:
    """One span through a real SDK provider; its trace id."""
    provider = TracerProvider(resource=Resource.create({"service.name": "tls-test"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("tls").start_as_current_span(name) as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_id


def fetch_trace(
    base: str, ca: Any, trace_id: str, cert: tuple[str, str] | None = None
) -> dict[str, Any] | None:
    with httpx.Client(base_url=base, verify=trusting(ca, cert), timeout=30) as http:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            response = http.get(f"/api/traces/{trace_id}")
            if response.status_code == 200:
                return dict(response.json())
            assert response.status_code == 404, response.text
            time.sleep(0.05)
    return None


def grpc_credentials(certs: Certs, client: bool = False) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=certs.ca.read_bytes(),
        private_key=certs.client_key.read_bytes() if client else None,
        certificate_chain=certs.client_cert.read_bytes() if client else None,
    )


def start_lines(server: TracepondProcess, wanted: str) -> str:
    """The server's output once it holds ``wanted`` (the lines after the ready line are read a
    moment after it)."""
    deadline = time.monotonic() + WAIT
    while wanted not in "\n".join(server.stdout_lines) and time.monotonic() < deadline:
        time.sleep(0.02)
    return "\n".join(server.stdout_lines)


def test_start_line_shows_https(tls_server: TracepondProcess) -> None:
    lines = start_lines(tls_server, "OTLP/gRPC endpoint")
    assert f"web view and API: {https(tls_server)}/" in lines, lines
    assert f"OTLP/gRPC endpoint: https://{tls_server.grpc}" in lines, lines


def test_otel_http_exporter_over_tls(tls_server: TracepondProcess, certs: Certs) -> None:
    exporter = HttpExporter(
        endpoint=f"{https(tls_server)}/v1/traces", certificate_file=str(certs.ca)
    )
    trace_id = emit(exporter, "over-https")
    tree = fetch_trace(https(tls_server), certs.ca, trace_id)
    assert tree is not None and tree["roots"][0]["name"] == "over-https"


def test_otel_grpc_exporter_over_tls(tls_server: TracepondProcess, certs: Certs) -> None:
    exporter = GrpcExporter(
        endpoint=f"https://{tls_server.grpc}", credentials=grpc_credentials(certs)
    )
    trace_id = emit(exporter, "over-grpc-tls")
    tree = fetch_trace(https(tls_server), certs.ca, trace_id)
    assert tree is not None and tree["roots"][0]["name"] == "over-grpc-tls"


def test_api_and_web_view_over_https(tls_server: TracepondProcess, certs: Certs) -> None:
    with httpx.Client(base_url=https(tls_server), verify=trusting(certs.ca), timeout=30) as http:
        page = http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert http.get("/api/traces", params={"limit": 1}).status_code == 200
        assert http.get("/healthz").status_code == 200
        # The scripts the page loads, over the same TLS connection.
        scripts = re.findall(r'src="(/[^"]+)"', page.text)
        assert scripts, page.text[:500]
        for script in scripts:
            assert http.get(script).status_code == 200, script


def test_plain_text_clients_get_nothing(tls_server: TracepondProcess, certs: Certs) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://{tls_server.http}/healthz", timeout=10)
    # A plain-text gRPC export is not accepted: the exporter fails, nothing is stored.
    trace_id = os.urandom(16).hex()
    channel = grpc.insecure_channel(tls_server.grpc)
    call = channel.unary_unary(
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        request_serializer=lambda body: body,
        response_deserializer=lambda body: body,
    )
    with pytest.raises(grpc.RpcError) as failed:
        call(b"", timeout=10)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    channel.close()
    # A client that trusts another CA refuses the server's certificate.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{https(tls_server)}/healthz", verify=trusting(certs.other_ca), timeout=10)
    # ...and the server is still serving the others.
    with httpx.Client(base_url=https(tls_server), verify=trusting(certs.ca)) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get(f"/api/traces/{trace_id}").status_code == 404


def test_settings_from_the_environment(
    start_tracepond: Callable[..., TracepondProcess], certs: Certs
) -> None:
    server = start_tracepond(
        env={
            "TRACEPOND_TLS_CERT": str(certs.server_cert),
            "TRACEPOND_TLS_KEY": str(certs.server_key),
        }
    )
    with httpx.Client(base_url=https(server), verify=trusting(certs.ca)) as http:
        assert http.get("/healthz").status_code == 200


def test_mutual_tls(start_tracepond: Callable[..., TracepondProcess], certs: Certs) -> None:
    server = start_tracepond(*tls_flags(certs), "--tls-client-ca", str(certs.ca))
    assert "clients must present a certificate" in start_lines(server, "clients must")
    # No client certificate: the handshake (or the first read after it, TLS 1.3) fails.
    with pytest.raises((httpx.HTTPError, ssl.SSLError)):
        httpx.get(f"{https(server)}/healthz", verify=trusting(certs.ca), timeout=10)
    refused = emit(
        HttpExporter(endpoint=f"{https(server)}/v1/traces", certificate_file=str(certs.ca)),
        "no-client-cert",
    )
    client_cert = (str(certs.client_cert), str(certs.client_key))
    grpc_id = emit(
        GrpcExporter(
            endpoint=f"https://{server.grpc}", credentials=grpc_credentials(certs, client=True)
        ),
        "mutual-grpc",
    )
    http_id = emit(
        HttpExporter(
            endpoint=f"{https(server)}/v1/traces",
            certificate_file=str(certs.ca),
            client_certificate_file=client_cert[0],
            client_key_file=client_cert[1],
        ),
        "mutual-http",
    )
    for trace_id in (grpc_id, http_id):
        assert fetch_trace(https(server), certs.ca, trace_id, client_cert) is not None
    with httpx.Client(base_url=https(server), verify=trusting(certs.ca, client_cert)) as http:
        assert http.get(f"/api/traces/{refused}").status_code == 404
