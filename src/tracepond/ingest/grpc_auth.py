"""Authentication of OTLP/gRPC calls: a server interceptor reading ``authorization`` metadata,
which is what ``OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer <key>"`` makes the OTel SDKs
send. Refusals are UNAUTHENTICATED (no usable key) and PERMISSION_DENIED (wrong scope or
project), which OTLP exporters do not retry; too many failed attempts from one address,
RESOURCE_EXHAUSTED. The key's project is set on ``auth.principal.key_project`` for the call.

The authenticator is attached once the store is open (``attach``): the gRPC server is created,
with its interceptors, before that, so that a port in use fails the start first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from tracepond.auth.gate import Authenticator
from tracepond.auth.principal import Principal, key_project, may_ingest
from tracepond.errors import TooManyAttempts, TracepondError

PROJECT_METADATA = "x-tracepond-project"
_STATUS = {
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    def __init__(self) -> None:
        self._auth: Authenticator | None = None

    def attach(self, auth: Authenticator) -> None:
        self._auth = auth

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        behavior = handler.unary_unary

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            auth = self._auth
            if auth is None or not auth.required:
                return await behavior(request, context)
            try:
                principal = _check(auth, context)
            except TracepondError as exc:
                status = _STATUS.get(exc.http_status, grpc.StatusCode.INTERNAL)
                await context.abort(status, exc.message)
                raise AssertionError("unreachable: abort raises") from exc
            token = key_project.set(principal.project)
            try:
                return await behavior(request, context)
            finally:
                key_project.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


def _check(auth: Authenticator, context: grpc.aio.ServicerContext) -> Principal:
    pairs = context.invocation_metadata() or ()
    metadata = {k.lower(): v for k, v in pairs if isinstance(v, str)}
    client = _peer_address(context.peer())
    retry = auth.retry_after(client)
    if retry is not None:
        raise TooManyAttempts(
            f"too many failed API key attempts from this address; retry in {retry} s", retry
        )
    principal = auth.from_authorization(client, metadata.get("authorization"))
    project = metadata.get(PROJECT_METADATA) or principal.project or "default"
    if not may_ingest(principal, project):
        if principal.project is not None and principal.project != project:
            why = f"this API key is for project {principal.project!r}, not {project!r}"
        else:
            why = f"this API key's scope ({principal.scope}) does not allow sending spans"
        raise auth.deny(principal, client, why)
    return principal


def _peer_address(peer: str) -> str:
    """``ipv4:127.0.0.1:5555`` / ``ipv6:[::1]:5555`` -> the address without the port."""
    _, _, rest = peer.partition(":")
    if rest.startswith("["):
        return rest[1 : rest.find("]")]
    return rest.rpartition(":")[0] or rest
