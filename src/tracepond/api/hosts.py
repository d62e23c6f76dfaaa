"""The ``Host`` check: which host names the HTTP port answers.

A server on loopback is still reachable from any web page the developer opens: the page's
own host name can be made to resolve to 127.0.0.1 (DNS rebinding), and the browser then lets
the page read the answers, every trace included, and post spans. Such a request carries the
page's host name in ``Host``; a loopback server answers only loopback names and the ones it
was told (``--allowed-hosts``). A server bound to another address answers any Host unless
``--allowed-hosts`` is given. The gRPC port needs no check: browsers cannot speak gRPC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from tracepond.api._json import json_response
from tracepond.api.errors import error_body
from tracepond.errors import HostNotAllowed


class HostPolicy:
    def __init__(self, bound_host: str, allowed: Iterable[str] = ()) -> None:
        self._allowed = tuple(name.strip().lower().rstrip(".") for name in allowed if name)
        self.checks = bool(self._allowed) or is_loopback(bound_host)

    def allows(self, host_header: str | None) -> bool:
        if not self.checks:
            return True
        if not host_header:
            return False
        name = host_name(host_header)
        return is_loopback(name) or any(_matches(name, pattern) for pattern in self._allowed)


def host_name(host_header: str) -> str:
    """The name in a Host header: without its port, brackets or a trailing dot, lowercase."""
    value = host_header.strip().lower()
    if value.startswith("["):  # [::1] or [::1]:4318
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":")[0]
    return value.rstrip(".")


def is_loopback(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _matches(name: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern


class HostCheck:
    """Pure ASGI middleware refusing requests whose Host the policy does not allow."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.policy.allows(_host(scope)):
            error = HostNotAllowed(
                f"host {_host(scope)!r} is not served here; add it with --allowed-hosts"
            )
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = json_response(
                error_body(error.http_status, error.code, error.message), error.http_status
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _host(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return str(value.decode("latin-1"))
    return None
