"""Instrumentation never raises into user code: bad values, huge values, broken exporters."""

from __future__ import annotations

import socket
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import tracepond
from tracepond import trace

from .spans import Spans, attr, json_attr


class Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


class Cyclic:
    def __init__(self) -> None:
        self.me = [self]


@trace(name="echo_len")
def echo_len(value: Any) -> int:
    return len(value) if hasattr(value, "__len__") else -1


def test_unserializable_arguments_and_results(spans: Spans) -> None:
    @trace(name="make")
    def make(x: Any) -> Unprintable:
        return Unprintable()

    result = make(Unprintable())
    assert isinstance(result, Unprintable)
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["self"] = cyclic
    assert echo_len(cyclic) == 2
    assert echo_len(Cyclic()) == -1
    make_span = spans.named("make")
    assert json_attr(make_span, "tracepond.input") == {"x": "<unrepresentable Unprintable>"}
    assert json_attr(make_span, "tracepond.output") == "<unrepresentable Unprintable>"
    first, _ = spans.all_named("echo_len")
    assert json_attr(first, "tracepond.input") == {"value": {"a": 1, "self": "<cycle>"}}


def test_huge_arguments_are_truncated(spans: Spans) -> None:
    big_text = "x" * 5_000_000
    big_list = list(range(1_000_000))
    assert echo_len(big_text) == 5_000_000
    assert echo_len(big_list) == 1_000_000
    text_span, list_span = spans.all_named("echo_len")
    for span in (text_span, list_span):
        value = attr(span, "tracepond.input")
        assert isinstance(value, str)
        assert len(value) < 8192 + 100
        assert "truncated" in value or "more" in value


def test_max_value_size_setting_applies(spans: Spans) -> None:
    spans.init(max_value_size=64)
    assert echo_len("y" * 1000) == 1000
    value = attr(spans.named("echo_len"), "tracepond.input")
    assert isinstance(value, str) and value.startswith('{"value": "yyy')
    assert len(value) <= 64 + len("...[truncated 9999 chars]")


def test_dataclass_pydantic_and_numpy_values(spans: Spans) -> None:
    import dataclasses

    import numpy as np
    from pydantic import BaseModel

    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    class Query(BaseModel):
        text: str
        k: int = 3

    @trace(name="mixed")
    def mixed(p: Point, q: Query, arr: Any, scalar: Any) -> Any:
        return {"sum": float(arr.sum())}

    assert mixed(Point(1, 2), Query(text="hi"), np.arange(4), np.float32(1.5)) == {"sum": 6.0}
    assert json_attr(spans.named("mixed"), "tracepond.input") == {
        "p": {"x": 1, "y": 2},
        "q": {"text": "hi", "k": 3},
        "arr": [0, 1, 2, 3],
        "scalar": 1.5,
    }


class FailingExporter(SpanExporter):
    def __init__(self) -> None:
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        raise ConnectionError("collector is down")

    def shutdown(self) -> None:
        raise RuntimeError("shutdown fails too")


@pytest.mark.parametrize("batch", [True, False])
def test_failing_exporter_does_not_reach_user_code(spans: Spans, batch: bool) -> None:
    exporter = FailingExporter()
    tracepond.init(exporter=exporter, batch=batch)
    assert [echo_len("abc") for _ in range(20)] == [3] * 20
    tracepond.flush(timeout_millis=2000)
    assert exporter.calls >= 1
    tracepond.shutdown()


def test_exporter_to_a_closed_port(spans: Spans) -> None:
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tracepond.init(f"http://127.0.0.1:{port}", batch=True)
    assert echo_len("abc") == 3
    assert tracepond.flush(timeout_millis=1500) in (True, False)
    tracepond.shutdown()


class BlockingExporter(SpanExporter):
    def __init__(self) -> None:
        self.release = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(5)
        return SpanExportResult.SUCCESS


def test_full_queue_drops_spans_not_calls(spans: Spans, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
    exporter = BlockingExporter()
    tracepond.init(exporter=exporter, batch=True)
    assert [echo_len("ab") for _ in range(200)] == [2] * 200
    exporter.release.set()
    tracepond.shutdown()
