"""The Jaeger reads of the contract (``services``, ``operations``, ``find_trace_ids``: see
``model.jaeger.TraceQuery`` for what matches) and ``database_bytes``, once per store.

The Jaeger dataset: in ``default``, trace A of service ``agent`` (a SERVER root ``handle``
600 ms, a CLIENT ``chat`` 400 ms with attributes, an ERROR ``tool`` 10 ms), trace B of
``agent`` (one ``handle`` 50 ms, 10 s later) and trace C of ``other`` (one ``lonely`` 5 ms with
a resource attribute, 5 s after A); in ``team``, trace D of ``team-svc``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id
from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.projects import DEFAULT_PROJECT

from .build import batch_of, table
from .conftest import ConformanceStore, StoreFactory

MS = 1_000_000
S = 1_000 * MS
T = BASE_NS
TEAM = "team"
EMPTY = "empty"
SERVER, CLIENT, INTERNAL = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL


@dataclass(frozen=True)
class Jaeger:
    store: ConformanceStore
    a: bytes
    b: bytes
    c: bytes
    d: bytes


@pytest.fixture(scope="module")
def jaeger(factory: StoreFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaeger]:
    store = factory(tmp_path_factory.mktemp("jaeger"))
    a, b, c, d = trace_id(), trace_id(), trace_id(), trace_id()
    root = span_id()
    chat_attributes = {"gen_ai.request.model": "gpt-x", "n": 42, "flag": True}
    try:
        store.projects_create(TEAM)
        store.projects_create(EMPTY)
        store.write(
            [
                table(
                    make_span(a, root, "handle", kind=SERVER, end=T + 600 * MS),
                    make_span(
                        a,
                        span_id(),
                        "chat",
                        parent=root,
                        kind=CLIENT,
                        start=T + MS,
                        end=T + 401 * MS,
                        attributes=chat_attributes,
                    ),
                    make_span(
                        a,
                        span_id(),
                        "tool",
                        parent=root,
                        kind=INTERNAL,
                        start=T + 500 * MS,
                        end=T + 510 * MS,
                        status_code=2,
                    ),
                    make_span(
                        b,
                        span_id(),
                        "handle",
                        kind=SERVER,
                        start=T + 10 * S,
                        end=T + 10 * S + 50 * MS,
                        attributes={"n": 7},
                    ),
                    service="agent",
                ),
                batch_of(
                    make_request(
                        [
                            make_span(
                                c, span_id(), "lonely", start=T + 5 * S, end=T + 5 * S + 5 * MS
                            )
                        ],
                        service="other",
                        resource={"deployment.environment": "prod"},
                    )
                ),
                table(make_span(d, span_id(), "secret"), service="team-svc", project=TEAM),
            ]
        )
        yield Jaeger(store, a, b, c, d)
    finally:
        store.close()


def test_services_of_each_project(jaeger: Jaeger) -> None:
    assert jaeger.store.services(DEFAULT_PROJECT) == ["agent", "other"]
    assert jaeger.store.services(TEAM) == ["team-svc"]
    assert jaeger.store.services(EMPTY) == []


def test_operations_by_name_then_kind(jaeger: Jaeger) -> None:
    store = jaeger.store
    assert store.operations("agent") == [
        Operation("chat", CLIENT),
        Operation("handle", SERVER),
        Operation("tool", INTERNAL),
    ]
    assert store.operations("agent", SERVER) == [Operation("handle", SERVER)]
    assert store.operations("agent", Span.SPAN_KIND_CONSUMER) == []
    assert store.operations("nobody") == []
    assert store.operations("team-svc") == []  # another project's service
    assert store.operations("team-svc", project=TEAM) == [Operation("secret", INTERNAL)]


def find(jaeger: Jaeger, project: str = DEFAULT_PROJECT, **conditions: object) -> list[bytes]:
    return jaeger.store.find_trace_ids(TraceQuery(**conditions), project)  # type: ignore[arg-type]


def test_find_by_service_and_operation_most_recent_first(jaeger: Jaeger) -> None:
    assert find(jaeger, service="agent") == [jaeger.b, jaeger.a]
    assert find(jaeger) == [jaeger.b, jaeger.c, jaeger.a]
    assert find(jaeger, service="agent", limit=1) == [jaeger.b]
    assert find(jaeger, operation="chat") == [jaeger.a]
    assert find(jaeger, service="other", operation="chat") == []


def test_find_by_tags_of_span_and_resource(jaeger: Jaeger) -> None:
    assert find(jaeger, tags={"n": "42"}) == [jaeger.a]
    assert find(jaeger, tags={"n": "7"}) == [jaeger.b]
    assert find(jaeger, tags={"flag": "true"}) == [jaeger.a]
    assert find(jaeger, tags={"gen_ai.request.model": "gpt-x", "n": "42"}) == [jaeger.a]
    assert find(jaeger, tags={"deployment.environment": "prod"}) == [jaeger.c]
    assert find(jaeger, tags={"error": "true"}) == [jaeger.a]  # status ERROR
    assert find(jaeger, tags={"n": "43"}) == []


def test_every_condition_applies_to_one_span(jaeger: Jaeger) -> None:
    # n=42 is on A's chat span, not on its handle span.
    assert find(jaeger, operation="handle", tags={"n": "42"}) == []
    assert find(jaeger, operation="chat", tags={"n": "42"}) == [jaeger.a]
    # chat (400 ms) is long enough, tool (10 ms) is not.
    assert find(jaeger, operation="chat", min_duration_ns=300 * MS) == [jaeger.a]
    assert find(jaeger, operation="tool", min_duration_ns=300 * MS) == []


def test_find_by_duration_and_start(jaeger: Jaeger) -> None:
    assert find(jaeger, min_duration_ns=300 * MS) == [jaeger.a]
    assert find(jaeger, max_duration_ns=6 * MS) == [jaeger.c]
    assert find(jaeger, min_duration_ns=10 * MS, max_duration_ns=50 * MS) == [jaeger.b, jaeger.a]
    assert find(jaeger, start_ns=T + 4 * S) == [jaeger.b, jaeger.c]
    assert find(jaeger, end_ns=T + 6 * S) == [jaeger.c, jaeger.a]
    assert find(jaeger, start_ns=T + 4 * S, end_ns=T + 6 * S) == [jaeger.c]


def test_find_within_one_project(jaeger: Jaeger) -> None:
    assert find(jaeger, service="team-svc") == []
    assert find(jaeger, TEAM) == [jaeger.d]
    assert find(jaeger, TEAM, service="agent") == []
    assert find(jaeger, EMPTY) == []


# -- database size -----------------------------------------------------------------------------


def test_database_bytes_grows_with_data(store: ConformanceStore) -> None:
    """A size in bytes, or None when the engine cannot say; more data takes more room."""
    before = store.database_bytes()
    assert before is None or (isinstance(before, int) and before >= 0)
    trace = trace_id()
    # Incompressible values, so that no engine can store them in less than ~400 kB.
    spans = [
        make_span(trace, span_id(), f"s{i}", attributes={"blob": os.urandom(1024).hex()})
        for i in range(200)
    ]
    store.write([table(*spans)])
    after = store.database_bytes()
    if before is None:
        assert after is None
    else:
        assert isinstance(after, int) and after >= before + 200 * 1024
