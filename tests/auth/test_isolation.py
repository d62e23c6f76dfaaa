"""Every route of the application, enumerated from the application itself, refuses every
request without a usable key, or with a key whose scope or project does not allow it.

A route added later without protection makes this test fail: routes are listed from the app
(FastAPI's routes and mounts: the OpenAPI schema, the Jaeger API, the web pages, /metrics,
OTLP/HTTP) and from the gRPC handlers, and only ``PUBLIC`` may answer without a key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from starlette.routing import Mount, Route

from conftest import TracepondProcess
from tracepond.ingest.grpc_receiver import GrpcReceiver
from tracepond.server import TracepondServer
from tracepond.server_settings import ServerSettings
from tracepond.store.url import StoreUrl

from .keys import Keys, bearer, unknown_key

# (method, path) answering without a key: health probes, the sign-in page and its static files,
# and the sign-in call (which checks the key it is given).
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/signin"),
    ("GET", "/static/js/main.js"),
    ("POST", "/api/session"),
}
_SAMPLE = {"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174"}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def _fill(path: str) -> str:
    return _PARAM.sub(lambda m: _SAMPLE.get(m.group(1), "abcdef012345"), path)


def app_routes(tmp_path: Path) -> list[tuple[str, str]]:
    """(method, concrete path) of every HTTP route of the server's application."""
    store = StoreUrl.duckdb(tmp_path / "routes.duckdb")
    settings = ServerSettings(store=store, decode_workers=0, auth="on")
    server = TracepondServer(settings)
    server._open()
    try:
        app = server.build_app()
    finally:
        server.metrics.close()
        server.store.close()
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Mount):
            found.add(("GET", f"{route.path}/js/main.js"))
        elif isinstance(route, Route):
            for method in route.methods or {"GET"}:
                if method != "HEAD":
                    found.add((method, _fill(route.path)))
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return sorted(found)


def grpc_methods() -> list[str]:
    handler: Any = GrpcReceiver(None, None).handler()  # type: ignore[arg-type]
    return sorted(handler._method_handlers)


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    return app_routes(tmp_path_factory.mktemp("routes"))


def _call(
    server: TracepondProcess, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body = b"{}" if method in ("POST", "PUT", "PATCH") else None
    return server.client.request(
        method, path, content=body, headers={"Content-Type": "application/json", **headers}
    )


def _bad_credentials(keys: Keys) -> Iterator[tuple[str, dict[str, str]]]:
    yield "no key", {}
    yield "malformed", {"Authorization": "Bearer not-a-key"}
    yield "not bearer", {"Authorization": f"Basic {keys.read}"}
    yield "unknown", bearer(unknown_key())
    yield "wrong secret", bearer(keys.read[:-4] + "0000")
    yield "revoked", bearer(keys.revoked)
    yield "expired", bearer(keys.expired)


def test_the_enumeration_sees_every_served_route(
    keyed_server: TracepondProcess, keys: Keys, routes: list[tuple[str, str]]
) -> None:
    schema = keyed_server.client.get("/openapi.json", headers=bearer(keys.read)).json()
    in_schema = {
        (method.upper(), _fill(path)) for path, ops in schema["paths"].items() for method in ops
    }
    assert in_schema <= set(routes)
    paths = {path for _, path in routes}
    for expected in ("/v1/traces", "/metrics", "/jaeger/api/services", "/dashboard", "/docs"):
        assert expected in paths
    assert set(routes) >= PUBLIC


def test_every_route_refuses_requests_without_a_usable_key(
    keyed_server: TracepondProcess, keys: Keys, routes: list[tuple[str, str]]
) -> None:
    problems = []
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        messages = set()
        for what, headers in _bad_credentials(keys):
            response = _call(keyed_server, method, path, headers)
            if response.status_code != 401:
                problems.append((method, path, what, response.status_code, response.text[:200]))
                continue
            assert response.headers["www-authenticate"].startswith("Bearer")
            error = response.json()["error"]
            assert error["status"] == 401 and error["code"] == "unauthenticated"
            if what != "no key":
                messages.add(error["message"])
        # Unknown, wrong, revoked and expired keys get the same words: no hint that one exists.
        assert len(messages) <= 1, (method, path, messages)
    assert not problems, problems


def _needs(method: str, path: str) -> str:
    if path == "/v1/traces":
        return "ingest"
    if (
        path.startswith("/api/keys")
        or path == "/metrics"
        or (path.startswith("/api/") and method not in ("GET", "HEAD") and path != "/api/session")
    ):
        return "admin"
    return "read"


def _reads_one_project(method: str, path: str) -> bool:
    """False for what holds no project's data: the web view's page shells, the API schema, who
    is signed in, and the list of projects (each key sees only the ones it may read)."""
    caller = {("GET", "/api/session"), ("DELETE", "/api/session"), ("GET", "/api/projects")}
    return (
        path.startswith(("/api/", "/jaeger/", "/v1/", "/metrics")) and (method, path) not in caller
    )


def test_routes_of_no_project_serve_a_read_key_of_any_project_and_show_it_only_its_own(
    keyed_server: TracepondProcess, keys: Keys, routes: list[tuple[str, str]]
) -> None:
    served = [(m, p) for m, p in routes if (m, p) not in PUBLIC and not _reads_one_project(m, p)]
    assert ("GET", "/") in served and ("GET", "/api/projects") in served
    for method, path in served:
        response = _call(keyed_server, method, path, bearer(keys.other_read))
        assert response.status_code < 400, (method, path, response.text[:200])  # /redoc: 307
    listed = _call(keyed_server, "GET", "/api/projects", bearer(keys.other_read)).json()
    assert [p["name"] for p in listed["projects"]] in ([], ["other"])  # never `default`


def test_keys_without_the_scope_or_project_are_refused(
    keyed_server: TracepondProcess, keys: Keys, routes: list[tuple[str, str]]
) -> None:
    problems = []
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        needs = _needs(method, path)
        wrong = (
            {"other project's read key": keys.other_read}
            if _reads_one_project(method, path)
            else {}
        )
        if needs != "ingest":
            wrong["ingest key"] = keys.ingest
        if needs != "read":
            wrong["read key"] = keys.read
        for what, key in wrong.items():
            response = _call(keyed_server, method, path, bearer(key))
            if response.status_code != 403:
                problems.append((method, path, what, response.status_code, response.text[:200]))
            else:
                assert response.json()["error"]["code"] == "permission_denied"
    assert not problems, problems


def test_an_ingest_key_cannot_write_into_another_project(
    keyed_server: TracepondProcess, keys: Keys
) -> None:
    headers = {**bearer(keys.ingest), "x-tracepond-project": "other"}
    response = _call(keyed_server, "POST", "/v1/traces", headers)
    assert response.status_code == 403


@pytest.mark.parametrize("method", grpc_methods())
def test_every_grpc_method_refuses_without_a_usable_key(
    keyed_server: TracepondProcess, keys: Keys, method: str
) -> None:
    expected = {
        "no key": ((), grpc.StatusCode.UNAUTHENTICATED),
        "malformed": ((("authorization", "Bearer nope"),), grpc.StatusCode.UNAUTHENTICATED),
        "unknown": (
            (("authorization", f"Bearer {unknown_key()}"),),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "revoked": (
            (("authorization", f"Bearer {keys.revoked}"),),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "expired": (
            (("authorization", f"Bearer {keys.expired}"),),
            grpc.StatusCode.UNAUTHENTICATED,
        ),
        "read key": (
            (("authorization", f"Bearer {keys.read}"),),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        "ingest key, other project": (
            (("authorization", f"Bearer {keys.ingest}"), ("x-tracepond-project", "other")),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
    }
    with grpc.insecure_channel(keyed_server.grpc) as channel:
        call = channel.unary_unary(method)
        for what, (metadata, status) in expected.items():
            with pytest.raises(grpc.RpcError) as raised:
                call(b"", metadata=metadata, timeout=30)
            assert raised.value.code() == status, what
        # The right key gets through (an empty export is a valid, empty request).
        call(b"", metadata=(("authorization", f"Bearer {keys.ingest}"),), timeout=30)
