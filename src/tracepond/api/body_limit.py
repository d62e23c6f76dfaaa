"""A bound on the body of every request but OTLP's (which has its own limit and memory budget,
ingest/http_receiver.py): the API's bodies (a project, a key, a sign-in) are a few hundred bytes,
and Starlette reads a JSON body whole before validating it, so an unbounded one could take the
server's memory. Past the bound: 413 in the one error shape, the body not read."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracepond.api.errors import tracepond_error_response
from tracepond.errors import PayloadTooLarge

# Far above any API body, far below what could hurt the server.
MAX_API_BODY_BYTES = 1024 * 1024
_OTLP_PATH = "/v1/traces"


class ApiBodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_API_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == _OTLP_PATH:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await tracepond_error_response(self._too_large())(scope, receive, send)
            return
        # Read here, up to the bound, so that a chunked body (or one longer than it said) is
        # refused with 413 too: the route would read it whole, and FastAPI turns an error
        # raised while reading into a 400.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await tracepond_error_response(self._too_large())(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"request body is over the {self.max_bytes} byte limit")


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body read already, then the client's own messages (a
    disconnect, which cancels a long query: http_cancel.py)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None
