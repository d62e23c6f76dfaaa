"""Authentication of every HTTP request (pure ASGI middleware), and the session routes.

What each request needs (``required_scope``): nothing for the health probes, the sign-in page,
its static files and the sign-in call itself (and ``/metrics`` with ``--metrics-auth off``);
``ingest`` for ``POST /v1/traces``; ``admin`` for ``/api/keys`` and any other ``/api/*`` call
that changes something; ``read`` for everything else. Refusal is the default, so a route added
later is protected without doing anything (tests/auth/test_isolation.py enumerates them all).

Credentials: ``Authorization: Bearer <key>``, or the web view's session cookie. A request
authenticated by the cookie that changes something must come from this origin
(``Sec-Fetch-Site`` / ``Origin``): SameSite=Strict already keeps the cookie off cross-site
requests, the check covers browsers without it. The principal is put on
``request.state.principal``; an ingest key's project on ``auth.principal.key_project``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Body, FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from tracepond.api._json import json_response
from tracepond.api.errors import tracepond_error_response
from tracepond.api.models import ErrorResponse
from tracepond.auth.gate import Authenticator
from tracepond.auth.principal import Principal, key_project, may_ingest, may_read
from tracepond.auth.sessions import COOKIE
from tracepond.errors import PermissionDenied, TooManyAttempts, TracepondError, Unauthenticated

PROJECT_HEADER = "x-tracepond-project"
DEFAULT_PROJECT = "default"
SIGN_IN_PAGE = "/signin"
SESSION_PATH = "/api/session"
_OPEN_PATHS = frozenset({"/healthz", "/readyz", SIGN_IN_PAGE})
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reads about the caller, or answered for the caller's own projects only (project_routes.py):
# a read key of any project may make them without ``?project=`` (the web view asks them to
# learn which project to open).
_CALLER_READS = frozenset({SESSION_PATH, "/api/projects"})
_SAME_SITE = frozenset({"same-origin", "none"})


def required_scope(method: str, path: str, metrics_open: bool) -> str | None:
    """The scope a request needs; None when it needs none."""
    if path in _OPEN_PATHS or path.startswith("/static/"):
        return None
    if path == "/metrics":
        # Counts of every project: an all-projects (admin) key, or open by setting.
        return None if metrics_open else "admin"
    if path == SESSION_PATH:
        return None if method == "POST" else "read"  # signing in checks the key itself
    if path == "/v1/traces":
        return "ingest"
    if path.startswith("/api/keys") or (path.startswith("/api/") and method not in _READ_METHODS):
        return "admin"
    return "read"


def reads_one_project(path: str) -> bool:
    """Whether a read answers with one project's data: the query API (but the caller's own
    routes) and the Jaeger API. The web view's pages and the API schema hold none: a read key of
    any project loads them, so that a page opened without ``?project=`` (or with another
    project's) is served and says itself what its API calls were refused."""
    return path.startswith(("/api/", "/jaeger/")) and path not in _CALLER_READS


def allowed(principal: Principal, needed: str, project: str, path: str) -> bool:
    if needed == "ingest":
        return may_ingest(principal, project)
    if needed == "admin":
        # /api/keys checks the project of each key itself (keys_routes.py).
        return principal.scope == "admin" and (
            principal.project in (None, project) or path.startswith("/api/keys")
        )
    return may_read(principal, project)


def request_project(path: str, query: dict[str, list[str]], headers: dict[str, str]) -> str:
    """The project a request acts in: ``?project=`` on ``/api/*``; elsewhere the
    ``x-tracepond-project`` header, else ``?project=``; else ``default``."""
    from_query = (query.get("project") or [""])[0]
    if path.startswith("/api/"):
        return from_query or DEFAULT_PROJECT
    return headers.get(PROJECT_HEADER) or from_query or DEFAULT_PROJECT


class AuthGate:
    def __init__(self, app: ASGIApp, auth: Authenticator, metrics_open: bool) -> None:
        self.app = app
        self.auth = auth
        self.metrics_open = metrics_open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["principal"] = None
        needed = required_scope(scope["method"], scope["path"], self.metrics_open)
        if needed is None or not self.auth.required:
            await self.app(scope, receive, send)
            return
        try:
            principal = self._authenticate(scope, needed)
        except _SignIn as redirect:
            await redirect.response(scope, receive, send)
            return
        except TracepondError as exc:
            await _refusal(exc)(scope, receive, send)
            return
        state["principal"] = principal
        token = key_project.set(principal.project)
        try:
            await self.app(scope, receive, send)
        finally:
            key_project.reset(token)

    def _authenticate(self, scope: Scope, needed: str) -> Principal:
        headers = _headers(scope)
        client = _client(scope)
        retry = self.auth.retry_after(client)
        if retry is not None:
            raise TooManyAttempts(
                f"too many failed API key attempts from this address; retry in {retry} s", retry
            )
        principal = self._principal(scope, headers, client)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        project = request_project(scope["path"], query, headers)
        if needed == "read" and not reads_one_project(scope["path"]):
            project = principal.project or project
        if needed == "ingest" and PROJECT_HEADER not in headers:
            # Spans go to the key's project unless a header names another one (refused).
            project = principal.project or project
        if not allowed(principal, needed, project, scope["path"]):
            raise self.auth.deny(principal, client, _denied(principal, needed, project))
        return principal

    def _principal(self, scope: Scope, headers: dict[str, str], client: str) -> Principal:
        authorization = headers.get("authorization")
        if authorization is not None:
            return self.auth.from_authorization(client, authorization)
        token = _cookie(headers, COOKIE)
        principal = self.auth.from_session(token) if token else None
        if principal is None:
            if _wants_page(scope, headers):
                raise _SignIn(scope)
            if token:
                raise Unauthenticated("the session has expired or ended: sign in again")
            return self.auth.from_authorization(client, None)
        if scope["method"] not in _READ_METHODS and not same_origin(scope, headers):
            raise PermissionDenied("cross-site request refused")
        return principal


def _denied(principal: Principal, needed: str, project: str) -> str:
    if principal.project is not None and principal.project != project:
        return f"this API key is for project {principal.project!r}, not {project!r}"
    return f"this API key's scope ({principal.scope}) does not allow this: it needs {needed}"


class _SignIn(Exception):
    """A browser asking for a page without a session: sent to the sign-in page."""

    def __init__(self, scope: Scope) -> None:
        target = scope["path"] + (
            "?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
        )
        self.response = RedirectResponse(f"{SIGN_IN_PAGE}?next={quote(target, safe='')}", 303)


def _refusal(exc: TracepondError) -> Response:
    response = tracepond_error_response(exc)
    if isinstance(exc, Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="tracepond"'
    return response


def same_origin(scope: Scope, headers: dict[str, str]) -> bool:
    """A browser request from this server's own pages (or a non-browser client)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in _SAME_SITE:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    return origin == f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"


def _wants_page(scope: Scope, headers: dict[str, str]) -> bool:
    path = scope["path"]
    return (
        scope["method"] in ("GET", "HEAD")
        and "text/html" in headers.get("accept", "")
        and not path.startswith(("/api/", "/jaeger/", "/v1/"))
    )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _cookie(headers: dict[str, str], name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def principal_of(request: Request) -> Principal | None:
    """The request's principal (None when authentication is off)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    return principal


_SIGN_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "No key in the body"},
    401: {"model": ErrorResponse, "description": "Not a valid API key"},
    403: {"model": ErrorResponse, "description": "Not a read key, or a cross-site request"},
    429: {"model": ErrorResponse, "description": "Too many failed attempts from this address"},
}


def add_session_routes(app: FastAPI, auth: Authenticator) -> None:
    """``POST /api/session`` exchanges a read (or admin) key for a session cookie;
    ``GET`` says who is signed in; ``DELETE`` signs out."""

    @app.post(
        SESSION_PATH,
        tags=["session"],
        summary="Sign in to the web view with an API key",
        responses=_SIGN_IN_ERRORS,
    )
    async def sign_in(request: Request, key: str = Body(embed=True)) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            if not same_origin(request.scope, headers):
                raise PermissionDenied("cross-site request refused")
            client = _client(request.scope)
            retry = auth.retry_after(client)
            if retry is not None:
                raise TooManyAttempts(
                    f"too many failed API key attempts from this address; retry in {retry} s",
                    retry,
                )
            principal = auth.from_key(client, key.strip())
            if principal.scope not in ("read", "admin"):
                raise PermissionDenied("an ingest key cannot sign in: use a read key")
        except TracepondError as exc:
            return _refusal(exc)
        response = json_response(_whoami(principal))
        response.set_cookie(
            COOKIE,
            auth.sessions.open(principal.key_id),
            max_age=int(auth.sessions.lifetime_seconds),
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.get(SESSION_PATH, tags=["session"], summary="Who is signed in")
    async def whoami(request: Request) -> Response:
        principal = principal_of(request)
        return json_response(_whoami(principal) if principal else {"auth": False})

    @app.delete(SESSION_PATH, tags=["session"], summary="Sign out of the web view")
    async def sign_out(request: Request) -> Response:
        token = request.cookies.get(COOKIE)
        if token:
            auth.sessions.close(token)
        response = json_response({"signed_out": True})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _whoami(principal: Principal) -> dict[str, Any]:
    return {
        "auth": True,
        "key_id": principal.key_id,
        "key_name": principal.key_name,
        "project": principal.project,
        "scope": principal.scope,
    }
