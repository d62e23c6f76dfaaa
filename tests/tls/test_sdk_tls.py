"""`tracepond.init(api_key=..., project=..., ca_file=...)`: the key and project reach the server as
`authorization: Bearer <key>` and `x-tracepond-project`, over OTLP/HTTP and OTLP/gRPC, through
https with a private CA; the environment fallbacks (TRACEPOND_API_KEY, TRACEPOND_PROJECT, the OTel
SDK's OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_CERTIFICATE); a refused key is reported in
words by flush(), once; the key is never in a log line nor in `tracepond.settings()`."""

from __future__ import annotations

import contextlib
import logging
import ssl
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.trace import TracerProvider

import tracepond

from .capture import Capture, grpc_capture, http_capture
from .certs import Certs

SECRET = "tpk_test0001_s3cr3t-value-never-logged"
PROTOCOLS = ["http/protobuf", "grpc"]
SDK_VARIABLES = (
    "TRACEPOND_API_KEY",
    "TRACEPOND_PROJECT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SDK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # As on Debian, Nix and many images: requests would let it replace the exporter's CA file.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ssl.get_default_verify_paths().openssl_cafile)
    yield
    tracepond.shutdown()


@contextlib.contextmanager
def capture(protocol: str, certs: Certs | None) -> Iterator[Capture]:
    with (grpc_capture if protocol == "grpc" else http_capture)(certs) as seen:
        yield seen


def send_one(protocol: str, endpoint: str, **init: Any) -> bool:
    """init() on a private provider, one span, flush(): whether it was acknowledged."""
    provider = TracerProvider()
    tracepond.init(endpoint, protocol=protocol, tracer_provider=provider, **init)
    with provider.get_tracer("t").start_as_current_span("one"):
        pass
    return tracepond.flush(timeout_millis=20_000)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_api_key_and_project_over_tls_with_a_private_ca(protocol: str, certs: Certs) -> None:
    with capture(protocol, certs) as server:
        delivered = send_one(
            protocol, server.url, api_key=SECRET, project="team-a", ca_file=str(certs.ca)
        )
        headers = server.wait()[0].headers
    assert delivered
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert headers["x-tracepond-project"] == "team-a"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_environment_fallbacks(
    protocol: str, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEPOND_API_KEY", SECRET)
    monkeypatch.setenv("TRACEPOND_PROJECT", "from-env")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", str(certs.ca))
    with capture(protocol, certs) as server:
        assert send_one(protocol, server.url)
        headers = server.wait()[0].headers
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert headers["x-tracepond-project"] == "from-env"
    # An argument wins over its variable.
    with capture(protocol, certs) as server:
        assert send_one(protocol, server.url, api_key="tpk_arg", project="from-arg")
        headers = server.wait()[0].headers
    assert headers["authorization"] == "Bearer tpk_arg"
    assert headers["x-tracepond-project"] == "from-arg"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_otel_exporter_otlp_headers(protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Percent-encoded, as the OTLP exporter spec writes values; the name in any case (gRPC
    # metadata must be lower case).
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20tpk_env,X-Team=t%2C1")
    with capture(protocol, None) as server:
        assert send_one(protocol, server.url)
        headers = server.wait()[0].headers
    assert headers["authorization"] == "Bearer tpk_env"
    assert headers["x-team"] == "t,1"
    # An explicit api_key wins over the variable's authorization header; the others stay.
    with capture(protocol, None) as server:
        assert send_one(protocol, server.url, api_key="tpk_explicit")
        headers = server.wait()[0].headers
    assert headers["authorization"] == "Bearer tpk_explicit"
    assert headers["x-team"] == "t,1"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("refusal", ["unauthenticated", "permission_denied"])
def test_a_refused_key_is_reported_once_in_words_without_the_key(
    protocol: str, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with capture(protocol, None) as server:
        server.status = 401 if refusal == "unauthenticated" else 403
        server.grpc_code = getattr(grpc.StatusCode, refusal.upper())
        assert not send_one(protocol, server.url, api_key=SECRET, project="team-a")
        # The same cause again: not logged again.
        assert not send_one(protocol, server.url, api_key=SECRET, project="team-a")
    reports = [r.getMessage() for r in caplog.records if "refused the API key" in r.getMessage()]
    assert len(reports) == 1, reports
    assert "the server refused the API key: " in reports[0]
    assert ("expired" in reports[0]) == (refusal == "unauthenticated"), reports[0]
    assert SECRET not in caplog.text
    shown = repr(tracepond.settings()) + str(tracepond.settings())
    assert SECRET not in shown and "<hidden>" in shown


def test_key_in_otel_headers_is_not_shown_either(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"authorization=Bearer {SECRET}")
    settings = tracepond.init("http://127.0.0.1:9", tracer_provider=TracerProvider())
    assert settings.export_headers()["authorization"] == f"Bearer {SECRET}"
    assert SECRET not in repr(settings)


def test_bad_arguments_are_refused_without_echoing_the_key() -> None:
    with pytest.raises(ValueError, match="project must be") as bad_project:
        tracepond.init("http://127.0.0.1:9", project="Team A", tracer_provider=TracerProvider())
    assert "Team A" in str(bad_project.value)
    with pytest.raises(ValueError, match="api_key holds a space") as bad_key:
        tracepond.init(
            "http://127.0.0.1:9", api_key=f"Bearer {SECRET}", tracer_provider=TracerProvider()
        )
    assert SECRET not in str(bad_key.value)
    with pytest.raises(ValueError, match="ca_file"):
        tracepond.init("http://127.0.0.1:9", ca_file="/nope.pem", tracer_provider=TracerProvider())
