"""``/api/keys``: create, list and revoke API keys (admin scope; ``api/auth.py``).

An admin key bound to a project sees and manages that project's keys only. A new key's secret
is in the creation answer and nowhere else, ever."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import Body, FastAPI, Path
from starlette.requests import Request
from starlette.responses import Response

from tracepond.api._json import json_response
from tracepond.api.auth import principal_of
from tracepond.api.models import ErrorResponse
from tracepond.auth.admin import KeyAdmin, describe
from tracepond.auth.principal import Principal, Scope
from tracepond.auth.table import KeyTable
from tracepond.errors import InvalidRequest, NotFound, PermissionDenied

KeyId = Annotated[str, Path(description="the key's id (12 hex characters)")]
_REFUSED: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid request"},
    401: {"model": ErrorResponse, "description": "No valid API key"},
    403: {"model": ErrorResponse, "description": "Not an admin key of this project"},
    503: {"model": ErrorResponse, "description": "The store cannot write now; retry"},
}
_UNKNOWN: dict[int | str, dict[str, Any]] = {
    **_REFUSED,
    404: {"model": ErrorResponse, "description": "No such key"},
}


def add_key_routes(app: FastAPI, admin: KeyAdmin, table: KeyTable) -> None:
    @app.get(
        "/api/keys", tags=["keys"], summary="API keys (never their secrets)", responses=_REFUSED
    )
    async def list_keys(request: Request) -> Response:
        principal = principal_of(request)
        records = await asyncio.to_thread(admin.list)
        visible = [r for r in records if _manages(principal, r.project)]
        return json_response({"keys": [describe(r, table.last_used_ns(r.id)) for r in visible]})

    @app.post(
        "/api/keys",
        tags=["keys"],
        summary="Create an API key (its secret is shown only here)",
        status_code=201,
        responses=_REFUSED,
    )
    async def create_key(
        request: Request,
        scope: Annotated[Scope, Body()],
        project: Annotated[str | None, Body()] = None,
        name: Annotated[str, Body()] = "",
        expires: Annotated[str | None, Body(description="lifetime: 90d, 12h, 2w")] = None,
    ) -> Response:
        principal = principal_of(request)
        if principal is not None and principal.project is not None:
            project = project or principal.project
        if not _manages(principal, project):
            raise PermissionDenied("this admin key cannot create keys for that project")
        try:
            new = await asyncio.to_thread(
                lambda: admin.create(
                    project=project, scope=scope, name=name, expires=expires, by=principal
                )
            )
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        return json_response({"key": new.secret, **describe(new.record)}, 201)

    @app.delete(
        "/api/keys/{key_id}", tags=["keys"], summary="Revoke an API key", responses=_UNKNOWN
    )
    async def revoke_key(request: Request, key_id: KeyId) -> Response:
        principal = principal_of(request)
        record = await asyncio.to_thread(admin.find, key_id)
        if record is None or not _manages(principal, record.project):
            raise NotFound(f"no API key {key_id!r}")
        await asyncio.to_thread(admin.revoke, key_id, principal)
        return json_response({"revoked": key_id})


def _manages(principal: Principal | None, project: str | None) -> bool:
    return principal is None or principal.project is None or principal.project == project
