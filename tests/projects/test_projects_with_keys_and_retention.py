"""Projects joined with API keys, deletion and retention (issue 20): a key bound to a project
writes there and reads only there, through real OTel SDK exporters; a deletion or a retention
of one project leaves another project's trace of the same id alone."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from auth.keys import bearer, create_key, initial_admin_key
from conftest import TracepondProcess
from ingest.otlp_build import make_request, make_span, span_id, trace_id
from store.conformance.build import batch_of
from tracepond.reindex import reindex
from tracepond.store.duckdb_store import DuckDBStore

WAIT = 30.0


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _exporter(server: TracepondProcess, protocol: str, key: str) -> SpanExporter:
    headers = {"authorization": f"Bearer {key}"}
    if protocol == "http":
        return HttpExporter(endpoint=f"{server.url}/v1/traces", headers=headers, timeout=30)
    return GrpcExporter(endpoint=server.grpc, insecure=True, headers=headers, timeout=30)


def export_with_otel_sdk(server: TracepondProcess, protocol: str, key: str) -> bytes:
    """One span through the OTel SDK's exporter, authenticated by ``key`` only; its trace id."""
    provider = TracerProvider(resource=Resource.create({"service.name": "keyed"}))
    provider.add_span_processor(SimpleSpanProcessor(_exporter(server, protocol, key)))
    with provider.get_tracer("tests").start_as_current_span("keyed") as span:
        trace = span.get_span_context().trace_id.to_bytes(16, "big")
    provider.shutdown()
    return trace


def _trace_body(trace: bytes, ended_ago_s: float = 0.0, name: str = "agent") -> bytes:
    end = time.time_ns() - int(ended_ago_s * 1e9)
    span = make_span(trace, span_id(), name, start=end - 5_000_000, end=end)
    return make_request([span]).SerializeToString()


def _send(server: TracepondProcess, project: str, body: bytes, **headers: str) -> None:
    response = server.post_otlp(body, **{"x-tracepond-project": project, **headers})
    assert response.status_code == 200, response.text


def _has_trace(server: TracepondProcess, project: str, trace: bytes, **headers: str) -> bool:
    response = server.client.get(
        f"/api/traces/{trace.hex()}", params={"project": project}, headers=headers
    )
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def test_a_project_key_writes_into_its_project_and_reads_only_there(
    start_tracepond: Any,
) -> None:
    server = start_tracepond("--auth", "on")
    admin = initial_admin_key(server)
    for name in ("alpha", "beta"):
        response = server.client.post("/api/projects", json={"name": name}, headers=bearer(admin))
        assert response.status_code == 201, response.text
    ingest = create_key(server, admin, scope="ingest", project="alpha", name="app")["key"]
    read_beta = create_key(server, admin, scope="read", project="beta", name="b")["key"]

    # The OTel SDK's exporters with only the key: the spans land in the key's project.
    for protocol in ("http", "grpc"):
        trace = export_with_otel_sdk(server, protocol, ingest)
        _wait_for(lambda t=trace: _has_trace(server, "alpha", t, **bearer(admin)), "alpha")
        assert not _has_trace(server, "default", trace, **bearer(admin))

    # A header naming another project than the key's is refused, and nothing is stored.
    other = trace_id()
    response = server.post_otlp(
        _trace_body(other), **{"x-tracepond-project": "beta", **bearer(ingest)}
    )
    assert response.status_code == 403, response.text
    assert not _has_trace(server, "beta", other, **bearer(admin))

    # A read key of beta reads beta, and nothing of alpha, not even its name.
    listed = server.client.get("/api/traces", params={"project": "beta"}, headers=bearer(read_beta))
    assert listed.status_code == 200, listed.text
    refused = server.client.get(
        "/api/traces", params={"project": "alpha"}, headers=bearer(read_beta)
    )
    assert refused.status_code == 403, refused.text


def test_deleting_a_trace_of_one_project_leaves_the_other_projects_trace_of_that_id(
    start_tracepond: Any,
) -> None:
    server = start_tracepond()
    for name in ("alpha", "beta"):
        assert server.client.post("/api/projects", json={"name": name}).status_code == 201
    shared, alpha_only = trace_id(), trace_id()
    _send(server, "alpha", _trace_body(shared, name="mine"))
    _send(server, "beta", _trace_body(shared, name="mine"))
    _send(server, "alpha", _trace_body(alpha_only, name="mine"))

    response = server.client.delete(f"/api/traces/{shared.hex()}", params={"project": "alpha"})
    assert response.status_code == 200 and response.json() == {"deleted": 1}, response.text
    assert not _has_trace(server, "alpha", shared)
    assert _has_trace(server, "beta", shared)

    # A deletion by search deletes within its project only.
    response = server.client.post("/api/traces/delete", params={"project": "beta", "name": "mine"})
    assert response.status_code == 200 and response.json() == {"deleted": 1}, response.text
    assert not _has_trace(server, "beta", shared)
    assert _has_trace(server, "alpha", alpha_only)


def test_a_project_retention_expires_its_traces_only(start_tracepond: Any) -> None:
    server = start_tracepond(env={"TRACEPOND_PURGE_INTERVAL": "0.25"})
    created = server.client.post("/api/projects", json={"name": "short", "retention": "2s"})
    assert created.status_code == 201, created.text
    short, kept = trace_id(), trace_id()
    _send(server, "short", _trace_body(short, ended_ago_s=60))
    _send(server, "default", _trace_body(kept, ended_ago_s=60))
    _wait_for(lambda: not _has_trace(server, "short", short), "the short project's trace to expire")
    assert _has_trace(server, "default", kept)  # no server-wide retention: kept forever

    # A retention given later, over the API, applies from the next pass.
    changed = server.client.patch("/api/projects/default", json={"retention": "1s"})
    assert changed.status_code == 200 and changed.json()["retention_ns"] == 10**9, changed.text
    _wait_for(lambda: not _has_trace(server, "default", kept), "the default project's trace")
    bad = server.client.patch("/api/projects/default", json={"retention": "soon"})
    assert bad.status_code == 400, bad.text
    missing = server.client.patch("/api/projects/nope", json={"retention": "1d"})
    assert missing.status_code == 404, missing.text


def test_a_project_kept_forever_outlives_the_servers_retention(start_tracepond: Any) -> None:
    server = start_tracepond("--retention", "1s", env={"TRACEPOND_PURGE_INTERVAL": "0.25"})
    created = server.client.post("/api/projects", json={"name": "audit", "retention": "forever"})
    assert created.status_code == 201 and created.json()["retention_ns"] == 0, created.text
    audit, ordinary = trace_id(), trace_id()
    _send(server, "audit", _trace_body(audit, ended_ago_s=60))
    _send(server, "default", _trace_body(ordinary, ended_ago_s=60))
    _wait_for(lambda: not _has_trace(server, "default", ordinary), "the server's retention")
    assert _has_trace(server, "audit", audit)
    # A bare number is refused, not read as nanoseconds (which would expire everything).
    bare = server.client.patch("/api/projects/audit", json={"retention": "30"})
    assert bare.status_code == 400 and "unit" in bare.text, bare.text
    assert server.client.get("/api/projects/audit").json()["retention_ns"] == 0


def test_reindex_keeps_the_totals_of_two_projects_traces_of_one_id_apart(tmp_path: Any) -> None:
    # Reindex recomputed totals by trace id alone: two projects' traces of one id got the sum of
    # both projects' calls.
    store = DuckDBStore(tmp_path / "reindex.duckdb", memory_limit="64MB", threads=1)
    try:
        store.projects_create("beta")
        shared = trace_id()
        for project, tokens in (("default", 10), ("beta", 1000)):
            call = make_span(
                shared,
                span_id(),
                "chat",
                attributes={"gen_ai.operation.name": "chat", "gen_ai.usage.input_tokens": tokens},
            )
            batch = batch_of(make_request([call]))
            store.write([replace(batch, project=project)])
        reindex(store, lambda *_: None)
        assert store.trace_summary(shared, project="default").input_tokens == 10  # type: ignore[union-attr]
        assert store.trace_summary(shared, project="beta").input_tokens == 1000  # type: ignore[union-attr]
    finally:
        store.close()
