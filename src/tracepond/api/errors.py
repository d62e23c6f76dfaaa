"""The one JSON error shape of the API: ``{"error": {"status", "code", "message"}}``.

Every failure of an HTTP route, a validation error of FastAPI's included, leaves in this shape;
``tests/api/test_errors.py`` and ``tests/api/test_error_shape.py`` pin it. Errors of the
errors.py hierarchy are mapped by their class (the most specific handler wins: Starlette looks
them up along the exception's MRO); anything else is caught by ``CatchAll`` and answered 500.

Why a middleware for the rest: Starlette's handler for ``Exception`` answers, then re-raises,
and uvicorn closes the keep-alive connection of a request whose exception escaped it. Caught
here, the exception is logged once and the client keeps its connection.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracepond.api._json import json_response
from tracepond.api._params import describe_validation_errors
from tracepond.errors import TracepondError

log = logging.getLogger(__name__)

_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_body(status: int, code: str, message: str) -> dict[str, object]:
    return {"error": {"status": status, "code": code, "message": message}}


def tracepond_error_response(exc: TracepondError) -> Response:
    body = error_body(exc.http_status, exc.code, exc.message)
    # Query syntax errors also say where, what was expected and the word meant (QuerySyntaxError).
    for extra in ("position", "expected", "suggestion"):
        if hasattr(exc, extra):
            body["error"][extra] = getattr(exc, extra)  # type: ignore[index]
    response = json_response(body, exc.http_status)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(TracepondError)
    async def _tracepond(_: Request, exc: TracepondError) -> Response:
        return tracepond_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        problems = describe_validation_errors(exc.errors())
        return json_response(error_body(400, "invalid_request", problems), 400)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> Response:
        code = _CODES.get(exc.status_code, "error")
        response = json_response(
            error_body(exc.status_code, code, str(exc.detail)), exc.status_code
        )
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    app.add_middleware(CatchAll)


class CatchAll:
    """Pure ASGI middleware: an exception no handler took becomes a JSON error response
    (TracepondError by its class, anything else 500) instead of escaping to the server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started:
                raise  # half a response went out: closing the connection is all that is left
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            response = _response_for(exc)
            await response(scope, receive, send)


def _response_for(exc: Exception) -> Response:
    if isinstance(exc, TracepondError):
        return tracepond_error_response(exc)
    body = error_body(500, "internal_error", f"internal error: {type(exc).__name__}")
    return json_response(body, 500)
