"""uvicorn's httptools protocol with a bound on request heads and read deadlines.

uvicorn's httptools protocol (the fast one) accepts request heads of any size, accumulating
them while the event loop stalls for every other client, and never times out a client that
is slow to send: a connection that trickles a byte at a time holds its slot forever. This
subclass answers 431 once a head grows past ``max_header_bytes``, and closes a connection whose
request head, and then body, take longer than ``read_timeout`` seconds each to arrive (a body
the application has not read yet, so that reading is paused, does not count against its
sender). An idle keep-alive connection is still closed by uvicorn's own keep-alive timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    max_header_bytes = 64 * 1024
    read_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # reading a request head (or waiting for one) rather than a body
        self._head_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A client that connects must send its first request head in time, too.
        self._arm(self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Checked after feeding: the bytes that completed a head may carry the body's start.
        if self._in_head and self._head_bytes > self.max_header_bytes:
            self._refuse(431, "request_header_too_large", self._head_message())

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self._head_too_slow)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._arm(self._body_too_slow)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._disarm()
        super().on_message_complete()

    def _head_message(self) -> str:
        return f"request line and headers are over the {self.max_header_bytes} byte limit"

    def _head_too_slow(self) -> None:
        self._deadline = None
        message = f"request headers not received within {self.read_timeout:g} s"
        self._refuse(408, "request_timeout", message)

    def _body_too_slow(self) -> None:
        self._deadline = None
        if self.flow.read_paused:
            # The application has not read what arrived yet: the delay is ours, not the client's.
            self._arm(self._body_too_slow)
            return
        if not self.transport.is_closing():
            # The application is waiting for the body: it sees a disconnect and gives up.
            self.transport.close()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer ``status`` in the JSON error shape and close the connection."""
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request behind one still being answered: no room for our answer.
            self.transport.close()
            return
        body = orjson.dumps({"error": {"status": status, "code": code, "message": message}})
        head = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status])
        head += b"content-type: application/json\r\ncontent-length: %d\r\n" % len(body)
        head += b"connection: close\r\n\r\n"
        self.transport.write(head + body)
        self.transport.close()

    def _arm(self, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def guarded_protocol(max_header_bytes: int, read_timeout: float) -> type[HttpToolsProtocol]:
    """The protocol class to give uvicorn (``Config(http=...)``) for these limits."""

    class Limited(GuardedHttpToolsProtocol):
        pass

    Limited.max_header_bytes = max_header_bytes
    Limited.read_timeout = read_timeout
    return Limited
