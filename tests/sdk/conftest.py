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

from .spans import Spans


@pytest.fixture(scope="session")
def provider() -> TracerProvider:
    current = otel_trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider(resource=Resource.create({"service.name": "tracepond-tests"}))
    otel_trace.set_tracer_provider(provider)
    return provider


@pytest.fixture
def spans(provider: TracerProvider) -> Iterator[Spans]:
    exporter = InMemorySpanExporter()
    tracepond.init(exporter=exporter, batch=False, capture_content=True, max_value_size=8192)
    yield Spans(exporter)
    tracepond.shutdown()
