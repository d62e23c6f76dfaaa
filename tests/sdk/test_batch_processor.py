"""EncodingBatchProcessor: OTel's batch semantics, with spans encoded as they end."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

import tracepond
from tracepond.sdk import _batch, _setup
from tracepond.sdk._batch import EncodingBatchProcessor, env_int
from tracepond.sdk._exporters import FastHttpSpanExporter

LONG = 600_000  # ms: no timed export during a test unless it asks for one


class Recording:
    """A serialized-span exporter that keeps what it is given; can block or fail."""

    supports_serialized = True

    def __init__(self, fail: bool = False) -> None:
        self.bodies: list[bytes] = []
        self.counts: list[int] = []
        self.span_batches: list[list[ReadableSpan]] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.fail = fail
        self.shut = False

    def export_serialized(self, body: bytes, span_count: int) -> SpanExportResult:
        self.entered.set()
        self.release.wait(10)
        if self.fail:
            raise ConnectionError("collector down")
        self.bodies.append(body)
        self.counts.append(span_count)
        return SpanExportResult.SUCCESS

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.span_batches.append(list(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.shut = True

    def names(self) -> list[str]:
        return [
            span.name
            for body in self.bodies
            for rs in ExportTraceServiceRequest.FromString(body).resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]


class Setup:
    def __init__(self, exporter: Recording, sampler: Sampler | None = None, **args: Any) -> None:
        self.exporter = exporter
        self.memory = InMemorySpanExporter()
        self.provider = TracerProvider(
            resource=Resource.create({"service.name": "batch-test"}),
            **({"sampler": sampler} if sampler else {}),
        )
        self.provider.add_span_processor(SimpleSpanProcessor(self.memory))
        args.setdefault("schedule_delay_millis", LONG)
        self.processor = EncodingBatchProcessor(exporter, **args)
        self.provider.add_span_processor(self.processor)

    def spans(self, count: int, tracer: str = "t", prefix: str = "s") -> None:
        for i in range(count):
            self.provider.get_tracer(tracer).start_span(f"{prefix}{i}").end()


@pytest.fixture
def make() -> Iterator[Callable[..., Setup]]:
    made: list[Setup] = []

    def build(exporter: Recording | None = None, **args: Any) -> Setup:
        setup = Setup(exporter or Recording(), **args)
        made.append(setup)
        return setup

    yield build
    for setup in made:
        setup.exporter.release.set()
        setup.processor.shutdown()


def otel_bytes(spans: Sequence[ReadableSpan]) -> bytes:
    return bytes(encode_spans(spans).SerializeToString())


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_flush_sends_what_otel_would_send(make: Callable[..., Setup]) -> None:
    setup = make()
    provider = setup.provider
    with provider.get_tracer("outer", "1.0").start_as_current_span("root", attributes={"a": 1}):
        setup.spans(3, tracer="inner")
        provider.get_tracer("per-call").start_span("x").end()  # tracer per call
        provider.get_tracer("per-call").start_span("y").end()
    assert setup.processor.force_flush()
    assert setup.exporter.counts == [6]
    assert setup.exporter.bodies == [otel_bytes(setup.memory.get_finished_spans())]


def test_full_batches_go_without_a_flush_and_the_rest_on_flush(
    make: Callable[..., Setup],
) -> None:
    setup = make(max_export_batch_size=10)
    setup.spans(25)
    wait_for(lambda: len(setup.exporter.counts) >= 2)
    assert setup.exporter.counts == [10, 10]
    setup.processor.force_flush()
    assert setup.exporter.counts == [10, 10, 5]
    assert setup.exporter.names() == [f"s{i}" for i in range(25)]


def test_the_schedule_delay_exports_a_partial_batch(make: Callable[..., Setup]) -> None:
    setup = make(schedule_delay_millis=50)
    setup.spans(3)
    wait_for(lambda: setup.exporter.counts == [3])


def test_a_full_queue_drops_its_oldest_spans_and_never_blocks(make: Callable[..., Setup]) -> None:
    exporter = Recording()
    exporter.release.clear()  # the collector hangs
    setup = make(exporter, max_queue_size=5, max_export_batch_size=5)
    setup.spans(5, prefix="first")
    exporter.entered.wait(10)  # the worker holds those 5, stuck in export
    started = time.monotonic()
    setup.spans(12, prefix="more")
    assert time.monotonic() - started < 5
    assert setup.processor.dropped_spans == 7
    exporter.release.set()
    setup.processor.force_flush()
    # What OTel's BatchSpanProcessor keeps in the same situation: the newest spans.
    assert exporter.names() == [f"first{i}" for i in range(5)] + [f"more{i}" for i in range(7, 12)]


def test_flush_gives_up_at_its_timeout(make: Callable[..., Setup]) -> None:
    exporter = Recording()
    setup = make(exporter, max_export_batch_size=2)
    setup.spans(2)
    wait_for(lambda: exporter.counts == [2])  # the first batch went through
    exporter.release.clear()  # and the collector hangs from now on
    exporter.entered.clear()
    setup.spans(6, prefix="late")
    exporter.entered.wait(10)  # the worker is stuck sending the next batch
    started = time.monotonic()
    assert not setup.processor.force_flush(timeout_millis=200)
    assert time.monotonic() - started < 9
    exporter.release.set()
    assert setup.processor.force_flush()
    assert len(exporter.names()) == 8


def test_shutdown_flushes_then_closes_the_exporter(make: Callable[..., Setup]) -> None:
    setup = make()
    setup.spans(4)
    setup.processor.shutdown()
    assert setup.exporter.counts == [4]
    assert setup.exporter.shut
    setup.spans(2)  # after shutdown: ignored, no error
    assert not setup.processor.force_flush()
    setup.processor.shutdown()  # twice is fine
    assert setup.exporter.counts == [4]


class RecordOnly(Sampler):
    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return SamplingResult(Decision.RECORD_ONLY)

    def get_description(self) -> str:
        return "RecordOnly"


def test_unsampled_spans_are_not_exported(make: Callable[..., Setup]) -> None:
    setup = make(sampler=RecordOnly())
    setup.spans(3)
    setup.processor.force_flush()
    assert setup.exporter.counts == []


def test_spans_the_encoder_fails_on_go_through_otel(
    make: Callable[..., Setup], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(span: Any) -> bytes:
        raise RuntimeError("encoder bug")

    setup = make()
    monkeypatch.setattr(_batch, "encode_span_field", broken)
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        setup.spans(3)
    setup.processor.force_flush()
    assert [[s.name for s in batch] for batch in setup.exporter.span_batches] == [
        ["s0", "s1", "s2"]
    ]
    assert "fast OTLP encoding failed" in caplog.text


def test_exporter_errors_stay_in_the_processor(
    make: Callable[..., Setup], caplog: pytest.LogCaptureFixture
) -> None:
    setup = make(Recording(fail=True))
    setup.spans(3)
    with caplog.at_level(logging.ERROR, logger="tracepond"):
        assert setup.processor.force_flush()
    assert "exception while exporting spans" in caplog.text


def test_many_distinct_scopes_are_grouped_and_forgotten(
    make: Callable[..., Setup], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_batch, "_MAX_GROUPS", 4)
    setup = make()
    for round_ in range(3):
        for i in range(10):
            setup.provider.get_tracer(f"scope-{i}").start_span(f"r{round_}-{i}").end()
        setup.processor.force_flush()
    spans = setup.memory.get_finished_spans()
    assert setup.exporter.bodies == [otel_bytes(spans[i : i + 10]) for i in (0, 10, 20)]
    assert len(setup.processor._groups) == 0  # rebuilt once the queue was empty


def test_after_fork_the_child_starts_empty(make: Callable[..., Setup]) -> None:
    setup = make()
    setup.spans(3)
    setup.processor._after_fork()
    assert setup.processor._worker.is_alive()
    setup.spans(2, prefix="child")
    setup.processor.force_flush()
    assert setup.exporter.names() == ["child0", "child1"]


def test_settings_argument_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert env_int("OTEL_BSP_MAX_QUEUE_SIZE", {}) == 2048
    assert env_int("OTEL_BSP_MAX_QUEUE_SIZE", {"OTEL_BSP_MAX_QUEUE_SIZE": "64"}) == 64
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        assert env_int("OTEL_BSP_SCHEDULE_DELAY", {"OTEL_BSP_SCHEDULE_DELAY": "soon"}) == 5000
        assert env_int("OTEL_BSP_SCHEDULE_DELAY", {"OTEL_BSP_SCHEDULE_DELAY": "-1"}) == 5000
    assert "OTEL_BSP_SCHEDULE_DELAY" in caplog.text
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "64")
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "16")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "250")
    from_env = EncodingBatchProcessor(Recording())
    explicit = EncodingBatchProcessor(Recording(), max_queue_size=8, max_export_batch_size=100)
    try:
        assert (from_env._max_queue, from_env._batch_size, from_env._delay_s) == (64, 16, 0.25)
        # A batch is never larger than the queue.
        assert (explicit._max_queue, explicit._batch_size) == (8, 8)
    finally:
        from_env.shutdown()
        explicit.shutdown()


def test_init_picks_the_processor_for_the_exporter() -> None:
    provider = TracerProvider()
    try:
        tracepond.init("http://127.0.0.1:9", tracer_provider=provider)
        pipeline = _setup._pipelines[id(provider)][1]
        assert isinstance(pipeline.delegate, EncodingBatchProcessor)
        assert isinstance(pipeline.delegate._exporter, FastHttpSpanExporter)
        tracepond.init(exporter=InMemorySpanExporter(), tracer_provider=provider)
        assert isinstance(pipeline.delegate, BatchSpanProcessor)
    finally:
        pipeline.shutdown()
