"""The FastAPI application: OTLP/HTTP ingest, the query API, health probes."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Path
from starlette.requests import Request
from starlette.responses import Response

from tracepond._version import __version__
from tracepond.api import errors
from tracepond.api._json import json_response
from tracepond.api._project import ProjectName
from tracepond.api.auth import AuthGate, add_session_routes
from tracepond.api.body_limit import ApiBodyLimit
from tracepond.api.hosts import HostCheck, HostPolicy
from tracepond.api.keys_routes import add_key_routes
from tracepond.api.models import ErrorResponse, Span, TraceTree
from tracepond.api.project_routes import add_project_routes
from tracepond.api.query_routes import add_query_routes
from tracepond.http_cancel import run_query
from tracepond.ingest.http_receiver import HttpReceiver
from tracepond.query.service import QueryService
from tracepond.web import mount as mount_web_view

if TYPE_CHECKING:
    from tracepond.auth.admin import KeyAdmin
    from tracepond.auth.gate import Authenticator
    from tracepond.model.records import StoreHealth

TraceId = Annotated[
    str,
    Path(description="32 lowercase hex characters", examples=["5b8efff798038103d269b633813fc60c"]),
]
SpanId = Annotated[
    str, Path(description="16 lowercase hex characters", examples=["eee19b7ec3c1b174"])
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid id or parameter"},
    404: {"model": ErrorResponse, "description": "Unknown trace or span"},
    503: {"model": ErrorResponse, "description": "The read hit its time or memory limit"},
}


def create_app(
    query: QueryService,
    receiver: HttpReceiver,
    ready: Callable[[], bool],
    store_health: Callable[[], StoreHealth],
    hosts: HostPolicy | None = None,
    auth: Authenticator | None = None,
    key_admin: KeyAdmin | None = None,
    metrics_open: bool = False,
) -> FastAPI:
    """The HTTP application; ``hosts`` says which Host names it answers (None: any); ``auth``
    checks every request's key (api/auth.py; None: no authentication at all)."""
    app = FastAPI(
        title="tracepond",
        version=__version__,
        description="OpenTelemetry-native tracing backend for LLM agents and RAG pipelines.",
        # A tracing backend must not trace its own requests: they would cost time per request
        # and, with a global provider set, loop back into itself.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # /docs is the web view's own page (web/__init__.py); FastAPI's load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(ApiBodyLimit)
    if auth is not None:
        app.add_middleware(AuthGate, auth=auth, metrics_open=metrics_open)
        add_session_routes(app, auth)
        if key_admin is not None:
            add_key_routes(app, key_admin, auth.table)
    app.state.query = query  # for the project_of dependency (api/_project.py)
    if hosts is not None and hosts.checks:
        app.add_middleware(HostCheck, policy=hosts)
    app.router.add_route("/v1/traces", receiver.handle, methods=["POST"], include_in_schema=False)

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    def healthz() -> Response:
        # 200 even while the store cannot write: the writer recovers it by itself (reopening
        # it, as a restart would), so a liveness probe that failed would only make Kubernetes
        # restart a process that is already doing what the restart would do (docs/operate.md).
        health = store_health()
        if health.writable:
            return json_response({"status": "ok"})
        store = {"state": health.state, "reason": health.reason}
        return json_response({"status": "degraded", "store": store})

    @app.get("/readyz", tags=["health"], summary="Ready to accept spans")
    def readyz() -> Response:
        if not ready():
            body = errors.error_body(503, "not_ready", "starting up or shutting down")
            return json_response(body, 503)
        health = store_health()
        if not health.writable:
            message = f"the store cannot write ({health.state}): {health.reason}"
            return json_response(errors.error_body(503, "storage_unavailable", message), 503)
        return json_response({"status": "ready"})

    add_query_routes(app, query)
    add_project_routes(app, query)

    @app.get(
        "/api/traces/{trace_id}",
        tags=["traces"],
        summary="One trace as a tree of spans",
        responses={200: {"model": TraceTree}, **_ERRORS},
    )
    async def get_trace(request: Request, project: ProjectName, trace_id: TraceId) -> Response:
        call = partial(query.trace_tree, project=project)
        return json_response(await run_query(request, query.deadline(), call, trace_id))

    @app.get(
        "/api/traces/{trace_id}/spans/{span_id}",
        tags=["traces"],
        summary="One span with everything stored for it",
        responses={200: {"model": Span}, **_ERRORS},
    )
    async def get_span(
        request: Request, project: ProjectName, trace_id: TraceId, span_id: SpanId
    ) -> Response:
        deadline = query.deadline()
        call = partial(query.span, project=project)
        return json_response(await run_query(request, deadline, call, trace_id, span_id))

    mount_web_view(app)
    return app
