"""Trace and span ids do not depend on the global `random` module: a script that seeds it gets
new ids on every run (else the server takes a later run for a copy of the first and keeps
nothing of it)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

import tracepond
from tracepond.langchain import TracepondCallbackHandler
from tracepond.sdk import _ids

from .lc_fixtures import rag_chain
from .spans import Spans

SEEDED_SCRIPT = textwrap.dedent(
    """
    import random
    import sys

    import tracepond

    random.seed(42)  # the user's own reproducibility; must not make the trace ids repeat
    tracepond.init(sys.argv[1], service_name="seeded-script")

    @tracepond.trace
    def answer(question: str) -> str:
        with tracepond.span("lookup", "retriever"):
            return question.upper()

    answer("same input every run")
    sys.exit(0 if tracepond.flush() else 3)
    """
)


def _stored_and_duplicate_spans(server: Any) -> float:
    names = ("tracepond_committed_spans_total", "tracepond_duplicate_spans_total")
    lines = server.get("/metrics").text.splitlines()
    return sum(float(line.split()[1]) for line in lines if line.split(" ")[0] in names)


def test_a_script_that_seeds_random_stores_a_trace_per_run(
    start_tracepond: Callable[..., Any], tmp_path: Path
) -> None:
    server = start_tracepond()
    script = tmp_path / "seeded.py"
    script.write_text(SEEDED_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(tracepond.__file__).parents[1])}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, str(script), server.url], env=env, timeout=120, capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
    # Each run sent 2 spans; wait until the server has dealt with all 4 (stored or duplicate).
    deadline = time.monotonic() + 60
    while _stored_and_duplicate_spans(server) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    traces = server.all_traces()
    assert len(traces) == 2, traces


def _ids_after_seeding(make: Callable[[], None], spans: Spans) -> set[tuple[int, int]]:
    spans.clear()
    random.seed(42)
    make()
    return {(s.context.trace_id, s.context.span_id) for s in spans.all()}


def _some_spans() -> None:
    @tracepond.trace
    def step() -> None:
        with tracepond.span("inner"):
            pass

    step()
    handler = TracepondCallbackHandler()
    rag_chain(["an answer"]).invoke("a question", config={"callbacks": [handler]})


def test_seeding_random_does_not_repeat_ids_on_any_path(spans: Spans) -> None:
    # `spans` runs this twice: OTel's SDK spans (the provider's id generator) and direct spans.
    first = _ids_after_seeding(_some_spans, spans)
    second = _ids_after_seeding(_some_spans, spans)
    assert len(first) >= 5  # @trace, span(), the LangChain runs
    assert not first & second
    trace_ids = {trace for trace, _ in first} | {trace for trace, _ in second}
    assert len(trace_ids) == 4  # one per root: the @trace call and the chain, twice


def test_init_gives_the_default_generator_a_private_source() -> None:
    provider = TracerProvider()
    tracepond.init(exporter=_NullExporter(), tracer_provider=provider)
    try:
        assert isinstance(provider.id_generator, _ids.PrivateIdGenerator)
        assert isinstance(provider.id_generator, RandomIdGenerator)  # random trace ids flag
    finally:
        tracepond.shutdown()


def test_an_id_generator_of_ones_own_is_kept() -> None:
    class Counting(IdGenerator):
        def __init__(self) -> None:
            self.next = 0

        def generate_span_id(self) -> int:
            self.next += 1
            return self.next

        def generate_trace_id(self) -> int:
            self.next += 1
            return self.next

    own = Counting()
    provider = TracerProvider(id_generator=own)
    tracepond.init(exporter=_NullExporter(), tracer_provider=provider)
    try:
        assert provider.id_generator is own
    finally:
        tracepond.shutdown()


def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report one id, then leave without running any cleanup
        os.close(read)
        os.write(write, _ids.trace_id().to_bytes(16, "big"))
        os._exit(0)
    os.close(write)
    parent_id = _ids.trace_id()
    with os.fdopen(read, "rb") as pipe:
        child_id = int.from_bytes(pipe.read(), "big")
    os.waitpid(pid, 0)
    assert child_id and child_id != parent_id


class _NullExporter:
    supports_serialized = True

    def export(self, spans: Any) -> Any:
        from opentelemetry.sdk.trace.export import SpanExportResult

        return SpanExportResult.SUCCESS

    def export_serialized(self, body: bytes, span_count: int) -> Any:
        return self.export(())

    def shutdown(self) -> None:
        pass
