"""The web view: static pages served by ``tracepond serve`` on its HTTP port.

Every page is the same small HTML shell; the ES modules under ``static/js`` read the query API
and render with ``textContent`` only. ``mount`` adds the page routes, the static files and the
security headers (a strict Content-Security-Policy on every response).

A trace page's shell comes with a ``Link: rel=preload`` header for the trace's compact skeleton,
so the browser asks for it with the page, not after the modules that need it have loaded (the
URL is the one ``static/js/api.js`` fetches; the browser hands that fetch the preloaded answer).
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracepond.auth.principal import Principal
from tracepond.projects import DEFAULT_PROJECT, PROJECT_NAME

STATIC = Path(__file__).parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
# Paths whose GET answers the page shell; the modules route on location.pathname.
PAGES = ("/", "/traces", "/sessions", "/sessions/{session_id}", "/dashboard")
TRACE_PAGE = "/traces/{trace_id}"
# The API reference: our own page reading /openapi.json (Swagger UI and ReDoc come from a CDN,
# which the CSP blocks and which a server must not depend on).
DOCS_PAGE = "/docs"
# Where a browser without a session is sent when the server needs API keys.
SIGN_IN_PAGE = "/signin"
# static/js/api.js: SKELETON_PAGE and compactSkeletonPath.
SKELETON_PAGE = 100_000
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")


def skeleton_preload(trace_id: str, project: str | None = None) -> str | None:
    """The ``Link`` header of a trace page: preload what the page will fetch first (in
    ``project``; static/js/project.js adds it last, and leaves ``default`` out)."""
    if not _TRACE_ID.fullmatch(trace_id):
        return None
    url = f"/api/traces/{trace_id.lower()}/skeleton/compact?limit={SKELETON_PAGE}"
    if project and project != DEFAULT_PROJECT:
        if not PROJECT_NAME.fullmatch(project):
            return None  # the page will say the name is wrong; nothing to preload
        url += f"&project={project}"
    return f"<{url}>; rel=preload; as=fetch; crossorigin"


def page_project(request: Request) -> str | None:
    """The project a page reads: its ``?project=``; else the project of the signed-in key
    (the page moves itself there, static/js/main.js)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return request.query_params.get("project") or (principal.project if principal else None)


def mount(app: FastAPI) -> None:
    """Serve the web view from ``app``: pages, ``/static/*`` and the security headers."""
    shell = STATIC / "index.html"

    def page() -> Response:
        # no-cache: revalidated (ETag) on every load, so an upgrade is seen at once.
        return FileResponse(shell, headers={"Cache-Control": "no-cache"})

    def trace_page(request: Request, trace_id: str) -> Response:
        response = page()
        link = skeleton_preload(trace_id, page_project(request))
        if link is not None:
            response.headers["link"] = link
        return response

    for path in PAGES:
        app.add_api_route(path, page, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route(TRACE_PAGE, trace_page, methods=["GET", "HEAD"], include_in_schema=False)
    _add_docs(app)
    _add_sign_in(app)
    app.mount("/static", _NoCache(StaticFiles(directory=STATIC)), name="static")
    app.add_middleware(SecurityHeaders)


def _add_docs(app: FastAPI) -> None:
    def docs() -> Response:
        return FileResponse(STATIC / "docs.html", headers={"Cache-Control": "no-cache"})

    def redoc() -> Response:
        return RedirectResponse(DOCS_PAGE)

    app.add_api_route(DOCS_PAGE, docs, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET", "HEAD"], include_in_schema=False)


def _add_sign_in(app: FastAPI) -> None:
    """The sign-in page (open: it holds no data; api/auth.py exchanges the key it posts)."""

    def sign_in() -> Response:
        return FileResponse(STATIC / "signin.html", headers={"Cache-Control": "no-cache"})

    app.add_api_route(SIGN_IN_PAGE, sign_in, methods=["GET", "HEAD"], include_in_schema=False)


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in _NAMES]
                message["headers"] = headers + list(SECURITY_HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)


class _NoCache:
    """Static files revalidate on every use (no build step, so no content-hashed names)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_no_cache(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"cache-control", b"no-cache")]
            await send(message)

        await self.app(scope, receive, send_no_cache)
