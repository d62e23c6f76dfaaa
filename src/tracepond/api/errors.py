"""The one JSON error shape of the API: ``{"error": {"status", "code", "message"}}``.

Every failure of an ``/api`` route, a validation error of FastAPI's included, leaves in this
shape; ``tests/api/test_errors.py`` pins it.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from tracepond.api._json import json_response
from tracepond.errors import Overloaded, TracepondError

_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed"}


def error_body(status: int, code: str, message: str) -> dict[str, object]:
    return {"error": {"status": status, "code": code, "message": message}}


def install(app: FastAPI) -> None:
    @app.exception_handler(TracepondError)
    async def _tracepond(_: Request, exc: TracepondError) -> Response:
        body = error_body(exc.http_status, exc.code, exc.message)
        # Query syntax errors also say where and what was expected (QuerySyntaxError).
        for extra in ("position", "expected"):
            if hasattr(exc, extra):
                body["error"][extra] = getattr(exc, extra)  # type: ignore[index]
        response = json_response(body, exc.http_status)
        if isinstance(exc, Overloaded):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return json_response(error_body(400, "invalid_request", problems), 400)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> Response:
        code = _CODES.get(exc.status_code, "error")
        return json_response(error_body(exc.status_code, code, str(exc.detail)), exc.status_code)
