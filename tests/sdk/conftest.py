"""Fixtures: one real OTel SDK provider for the session, a fresh in-memory exporter per test.

OpenTelemetry allows the global TracerProvider to be set once per process, so the session
sets it; each test then calls the real `tracepond.init()` with an in-memory exporter, which
swaps tracepond's processor on that provider.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tracepond
from tracepond.sdk import _direct, _runtime

from .spans import DecodedSpans, RecordingExporter, Spans


@pytest.fixture(scope="session")
def provider() -> TracerProvider:
    current = otel_trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": "tracepond-tests"}))
    otel_trace.set_tracer_provider(provider)
    return provider


@pytest.fixture(params=["sdk", "direct"])
def spans(request: pytest.FixtureRequest, provider: TracerProvider) -> Iterator[Spans]:
    """Every test taking `spans` runs twice: through OTel's SDK spans (an in-memory exporter
    sees them) and through tracepond's direct spans (its encoding batch processor alone on the
    provider; the OTLP bytes it exports are decoded back)."""
    found: Spans
    if request.param == "sdk":
        found = Spans(InMemorySpanExporter())
    else:
        found = DecodedSpans(RecordingExporter())
    found.init(capture_content=True, max_value_size=8192)
    if request.param == "direct":
        probe = _direct.start(_runtime.tracer(), "probe", None)  # never ended: never exported
        assert isinstance(probe, _direct.DirectSpan), "the direct path is not taken"
    yield found
    tracepond.shutdown()
