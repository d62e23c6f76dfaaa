"""The current span through OTel's context variable directly, and through OTel's API when the
runtime context is not the default one: the same spans become current, in the same order."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace

import tracepond
from tracepond.sdk import _current

from .spans import Spans


@pytest.fixture(params=["context variable", "OTel API"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    assert _current._variable is not None  # OTel's default runtime context is in use
    if request.param == "OTel API":
        monkeypatch.setattr(_current, "_variable", None)
    return str(request.param)


def test_attach_detach_and_lookup(path: str, spans: Spans) -> None:
    assert _current.span_of(None) is None
    with tracepond.span("outer") as outer:
        assert otel_trace.get_current_span() is outer.span
        assert _current.span_of(None) is outer.span
        token = _current.attach(otel_trace.INVALID_SPAN)
        assert otel_trace.get_current_span() is otel_trace.INVALID_SPAN
        _current.detach(token)
        assert otel_trace.get_current_span() is outer.span
        explicit = otel_trace.set_span_in_context(otel_trace.INVALID_SPAN)
        assert _current.span_of(explicit) in (None, otel_trace.INVALID_SPAN)
    assert _current.span_of(None) is None
    assert otel_context.get_current() == {}


def test_nesting_follows_the_same_rules(path: str, spans: Spans) -> None:
    @tracepond.trace(name="leaf")
    def leaf() -> int:
        return 1

    @tracepond.trace(name="branch")
    async def branch() -> int:
        return leaf()

    @tracepond.trace(name="root")
    def root() -> int:
        return leaf() + asyncio.run(branch())

    assert root() == 2
    assert spans.tree() == [("root", [("leaf", []), ("branch", [("leaf", [])])])]
