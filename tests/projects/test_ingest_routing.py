"""Ingest routes each span to one project: the forced project (an API key's), else the
x-tracepond-project header / gRPC metadata, else the resource attribute tracepond.project, else
default. Real servers, real OTel SDK exporters (HTTP and gRPC)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from tracepond.ingest._limits import SpanLimits
from tracepond.ingest._routing import ProjectChoice, route
from tracepond.ingest.decoding import InlineDecoder

PROJECTS = ("team-a", "team-b")


@pytest.fixture(scope="module")
def server(launch_shared_tracepond: Any) -> Any:
    server = launch_shared_tracepond()
    for name in PROJECTS:
        response = server.client.post("/api/projects", json={"name": name})
        assert response.status_code == 201, response.text
    return server


def _exporter(server: Any, transport: str, project: str | None) -> SpanExporter:
    headers = {"x-tracepond-project": project} if project else None
    if transport == "http":
        return HttpExporter(endpoint=f"{server.url}/v1/traces", headers=headers, timeout=30)
    return GrpcExporter(endpoint=server.grpc, insecure=True, headers=headers, timeout=30)


def _send(server: Any, transport: str, header: str | None, attribute: str | None) -> str:
    """One span through the SDK; its trace id (hex)."""
    resource = {"service.name": "routing"}
    if attribute is not None:
        resource["tracepond.project"] = attribute
    provider = TracerProvider(resource=Resource.create(resource))
    provider.add_span_processor(SimpleSpanProcessor(_exporter(server, transport, header)))
    with provider.get_tracer("tests").start_as_current_span("routed") as span:
        trace_hex = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    return trace_hex


def _project_of(server: Any, trace_hex: str) -> str | None:
    """The one project whose API finds the trace (None: none)."""
    found = [
        name
        for name in ("default", *PROJECTS)
        if server.get(f"/api/traces/{trace_hex}", project=name).status_code == 200
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


@pytest.mark.parametrize("transport", ["http", "grpc"])
@pytest.mark.parametrize(
    ("header", "attribute", "expected"),
    [
        ("team-a", "team-b", "team-a"),  # the header beats the resource attribute
        (None, "team-b", "team-b"),  # the resource attribute when there is no header
        (None, None, "default"),  # neither: default
        ("default", "team-b", "default"),  # an explicit header for default still wins
    ],
)
def test_spans_land_in_the_project_in_order(
    server: Any, transport: str, header: str | None, attribute: str | None, expected: str
) -> None:
    trace_hex = _send(server, transport, header, attribute)
    assert _project_of(server, trace_hex) == expected


def test_an_unknown_project_is_refused_and_nothing_is_stored(server: Any) -> None:
    trace = trace_id()
    body = make_request([make_span(trace, span_id())]).SerializeToString()
    response = server.post_otlp(body, **{"x-tracepond-project": "team-typo"})
    assert response.status_code == 400
    assert "team-typo" in response.text and "projects create" in response.text
    body = make_request(
        [make_span(trace, span_id())], resource={"tracepond.project": "nope"}
    ).SerializeToString()
    assert server.post_otlp(body).status_code == 400
    assert _project_of(server, trace.hex()) is None


def test_an_invalid_project_name_is_a_400(server: Any) -> None:
    body = make_request([make_span(trace_id(), span_id())]).SerializeToString()
    for bad in ("Team-A", "a b", "../x", "x" * 64):
        response = server.post_otlp(body, **{"x-tracepond-project": bad})
        assert response.status_code == 400, bad
        assert response.headers.get("retry-after") is None


def test_grpc_refuses_an_unknown_project_with_invalid_argument(server: Any) -> None:
    trace = trace_id()
    request = make_request([make_span(trace, span_id())])
    with grpc.insecure_channel(server.grpc) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.Export(request, metadata=[("x-tracepond-project", "ghost")], timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ghost" in str(raised.value.details())
    assert _project_of(server, trace.hex()) is None


def test_resources_naming_different_projects_are_split(server: Any) -> None:
    ours, theirs, plain = trace_id(), trace_id(), trace_id()
    request = make_request([make_span(ours, span_id())], resource={"tracepond.project": "team-a"})
    request.resource_spans.extend(
        make_request(
            [make_span(theirs, span_id())], resource={"tracepond.project": "team-b"}
        ).resource_spans
    )
    request.resource_spans.extend(make_request([make_span(plain, span_id())]).resource_spans)
    assert server.post_otlp(request.SerializeToString()).status_code == 200
    assert _project_of(server, ours.hex()) == "team-a"
    assert _project_of(server, theirs.hex()) == "team-b"
    assert _project_of(server, plain.hex()) == "default"


def test_a_forced_project_overrides_header_and_resource() -> None:
    """What authentication passes down for a key bound to a project (the receivers' one
    parameter for it): it wins over everything the request says."""
    request = make_request([make_span(trace_id(), span_id())], resource={"tracepond.project": "x"})
    decoder = InlineDecoder(SpanLimits())
    # On a thread of its own: a browser test run earlier in the session leaves an event loop
    # running on this one, where asyncio.run() refuses to start.
    body = request.SerializeToString()
    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(asyncio.run, decoder.decode(body, "protobuf")).result()
    assert outcome.batch is not None
    (batch,) = route(outcome.batch, ProjectChoice(forced="team-a", header="team-b"))
    assert batch.project == "team-a"
