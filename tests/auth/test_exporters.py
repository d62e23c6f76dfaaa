"""The real OTel SDK exporters (HTTP and gRPC) send their key the standard way,
``OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <key>"``: a good key stores the spans, a bad
one fails the export at once, with one attempt (UNAUTHENTICATED / 401 and PERMISSION_DENIED /
403 are not retried) and nothing stored."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import TracepondProcess

from .keys import Keys, bearer, unknown_key


def record(service: str) -> tuple[Sequence[ReadableSpan], str]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("t").start_as_current_span("root") as span:
        trace_id = f"{span.get_span_context().trace_id:032x}"
    provider.shutdown()
    return memory.get_finished_spans(), trace_id


def exporter(server: TracepondProcess, transport: str) -> SpanExporter:
    if transport == "grpc":
        return GrpcExporter(endpoint=server.grpc, insecure=True, timeout=30)
    return HttpExporter(endpoint=f"{server.url}/v1/traces", timeout=30)


def refusals(server: TracepondProcess) -> int:
    log = server.stderr()
    return log.count("refused an API key") + log.count("denied API key")


def stored(server: TracepondProcess, keys: Keys, trace_id: str) -> bool:
    response = server.client.get(f"/api/traces/{trace_id}", headers=bearer(keys.read))
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_exporter_with_an_ingest_key_in_the_standard_header(
    keyed_server: TracepondProcess, keys: Keys, transport: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{keys.ingest}")
    spans, trace_id = record(f"keyed-{transport}")
    assert exporter(keyed_server, transport).export(spans) == SpanExportResult.SUCCESS
    assert stored(keyed_server, keys, trace_id)


@pytest.mark.parametrize("transport", ["http", "grpc"])
@pytest.mark.parametrize("credential", ["unknown", "revoked", "read", "none"])
def test_exporter_with_a_bad_key_fails_once_and_stores_nothing(
    keyed_server: TracepondProcess,
    keys: Keys,
    transport: str,
    credential: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = {"unknown": unknown_key(), "revoked": keys.revoked, "read": keys.read, "none": ""}
    if key[credential]:
        monkeypatch.setenv(
            "OTEL_EXPORTER_OTLP_HEADERS", f"Authorization=Bearer%20{key[credential]}"
        )
    else:
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_HEADERS", raising=False)
    spans, trace_id = record(f"refused-{transport}-{credential}")
    before = refusals(keyed_server)
    assert exporter(keyed_server, transport).export(spans) == SpanExportResult.FAILURE
    # The server saw one attempt: a retried export would have been refused (and logged) again.
    time.sleep(1.0)
    expected = 0 if credential == "none" else 1
    assert refusals(keyed_server) - before == expected
    assert not stored(keyed_server, keys, trace_id)
