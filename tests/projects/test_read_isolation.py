"""Every read is within one project. Two projects hold the same trace id, the same span ids,
service, session and user; each project's reads see only its own spans, counts and aggregates,
through every route of the query API and the Jaeger API."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id

SHARED_TRACE, ROOT, CHILD = trace_id(), span_id(), span_id()
BETA_ONLY_TRACE = trace_id()
SESSION = "sess-shared"


def _request(project: str) -> bytes:
    secret = f"secret-{project}"
    root = make_span(
        SHARED_TRACE,
        ROOT,
        "ask",
        start=1_700_000_000_000_000_000,
        end=1_700_000_001_000_000_000,
        attributes={"session.id": SESSION, "user.id": "u1", "input.value": secret},
    )
    child = make_span(
        SHARED_TRACE,
        CHILD,
        "chat gpt-4o",
        parent=ROOT,
        start=1_700_000_000_100_000_000,
        end=1_700_000_000_900_000_000,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 5,
            "note": secret,
        },
    )
    return make_request([root, child], service="svc").SerializeToString()


@pytest.fixture(scope="module")
def server(launch_shared_tracepond: Any) -> Any:
    server = launch_shared_tracepond()
    for name in ("alpha", "beta"):
        assert server.client.post("/api/projects", json={"name": name}).status_code == 201
        response = server.post_otlp(_request(name), **{"x-tracepond-project": name})
        assert response.status_code == 200, response.text
    # Sent twice: a retry is a duplicate within beta, not a new span.
    assert server.post_otlp(_request("beta"), **{"x-tracepond-project": "beta"}).status_code == 200
    extra = make_request(
        [make_span(BETA_ONLY_TRACE, span_id(), "beta-only", attributes={"note": "secret-beta"})],
        service="beta-svc",
    )
    headers = {"x-tracepond-project": "beta"}
    assert server.post_otlp(extra.SerializeToString(), **headers).status_code == 200
    return server


def _get(server: Any, path: str, **params: Any) -> Any:
    response = server.get(path, project="alpha", **params)
    assert response.status_code == 200, (path, response.text)
    assert "secret-beta" not in response.text, path
    assert "beta-svc" not in response.text, path
    return response.json()


def test_lists_counts_and_search_see_only_the_project(server: Any) -> None:
    page = _get(server, "/api/traces")
    assert [t["trace_id"] for t in page["traces"]] == [SHARED_TRACE.hex()]
    assert page["count"] == 1
    assert page["traces"][0]["span_count"] == 2  # beta's copies of the same ids not counted
    assert _get(server, "/api/traces", text="secret")["count"] == 1
    assert _get(server, "/api/traces", service="beta-svc")["count"] == 0
    assert _get(server, "/api/traces", q='{ name = "beta-only" }')["count"] == 0
    assert _get(server, "/api/traces", q='{ name = "chat gpt-4o" }')["count"] == 1
    spans = _get(server, "/api/spans")
    assert spans["count"] == 2
    assert _get(server, "/api/spans", text="secret-alpha")["count"] == 2
    assert _get(server, "/api/spans", text="secret-beta")["count"] == 0
    assert _get(server, "/api/spans", q='{ name = "beta-only" }')["count"] == 0


def test_sessions_and_stats_see_only_the_project(server: Any) -> None:
    (session,) = _get(server, "/api/sessions")["sessions"]
    assert session["session_id"] == SESSION and session["trace_count"] == 1
    assert session["input_tokens"] == 10
    detail = _get(server, f"/api/sessions/{SESSION}")
    assert len(detail["traces"]) == 1
    assert "secret-alpha" in orjson.dumps(detail).decode()
    window = {"since": "1699999999000000000", "until": "1700000002000000000"}
    (row,) = _get(server, "/api/stats", **window)["rows"]
    assert row["count"] == 2 and row["input_tokens"] == 10
    (row,) = _get(server, "/api/stats", level="trace", **window)["rows"]
    assert row["count"] == 1


def test_trace_span_skeleton_and_export_see_only_the_project(server: Any) -> None:
    tree = _get(server, f"/api/traces/{SHARED_TRACE.hex()}")
    assert tree["summary"]["span_count"] == 2
    span = _get(server, f"/api/traces/{SHARED_TRACE.hex()}/spans/{CHILD.hex()}")
    assert "secret-alpha" in orjson.dumps(span).decode()
    assert _get(server, f"/api/traces/{SHARED_TRACE.hex()}/skeleton")["total"] == 2
    _get(server, f"/api/traces/{SHARED_TRACE.hex()}/skeleton/compact")
    otlp = _get(server, f"/api/traces/{SHARED_TRACE.hex()}/otlp")
    assert "secret-alpha" in orjson.dumps(otlp).decode()
    for path in ("", "/skeleton", "/otlp"):
        response = server.get(f"/api/traces/{BETA_ONLY_TRACE.hex()}{path}", project="alpha")
        assert response.status_code == 404, path


def test_the_other_project_reads_its_own(server: Any) -> None:
    page = server.get_json("/api/traces", project="beta")
    assert page["count"] == 2
    span = server.get_json(f"/api/traces/{SHARED_TRACE.hex()}/spans/{CHILD.hex()}", project="beta")
    assert "secret-beta" in orjson.dumps(span).decode()
    projects = {p["name"]: p for p in server.get_json("/api/projects")["projects"]}
    assert (projects["alpha"]["span_count"], projects["alpha"]["trace_count"]) == (2, 1)
    assert (projects["beta"]["span_count"], projects["beta"]["trace_count"]) == (3, 2)
    assert projects["default"]["trace_count"] == 0


def test_no_project_means_default_and_an_unknown_one_is_refused(server: Any) -> None:
    assert server.get_json("/api/traces")["count"] == 0
    response = server.get("/api/traces", project="gamma")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unknown_project"
    assert server.get("/api/sessions", project="Not A Name").status_code == 400


def test_jaeger_reads_see_only_the_project(server: Any) -> None:
    headers = {"x-tracepond-project": "alpha"}

    def jaeger(path: str, **params: Any) -> Any:
        response = server.client.get(f"/jaeger/api/{path}", params=params, headers=headers)
        assert response.status_code in (200, 404), response.text
        assert "secret-beta" not in response.text and "beta-svc" not in response.text
        return response

    assert jaeger("services").json()["data"] == ["svc"]
    assert jaeger("services/beta-svc/operations").json()["data"] == []
    found = jaeger("traces", service="svc").json()["data"]
    assert [t["traceID"] for t in found] == [SHARED_TRACE.hex()]
    assert len(found[0]["spans"]) == 2
    assert jaeger(f"traces/{BETA_ONLY_TRACE.hex()}").status_code == 404
    beta = server.get("/jaeger/api/services", project="beta").json()["data"]
    assert beta == ["beta-svc", "svc"]
    assert server.get("/jaeger/api/services", project="nope").status_code == 400


def test_metrics_count_spans_by_project(server: Any) -> None:
    text = server.get("/metrics").text
    assert 'tracepond_ingest_project_spans_total{project="alpha"} 2.0' in text
    # beta: its trace twice (the retry counts again, as in tracepond_ingest_spans) and one more
    assert 'tracepond_ingest_project_spans_total{project="beta"} 5.0' in text
