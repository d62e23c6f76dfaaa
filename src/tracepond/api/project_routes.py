"""The projects API: list, create, get (docs/operate.md, "Projects")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path
from starlette.requests import Request
from starlette.responses import Response

from tracepond.api._json import json_response
from tracepond.api.auth import principal_of
from tracepond.api.models import (
    ErrorResponse,
    ProjectCreate,
    ProjectInfo,
    ProjectList,
    ProjectUpdate,
)
from tracepond.auth.principal import Principal, may_read
from tracepond.deadline import Deadline
from tracepond.errors import InvalidRequest, PermissionDenied
from tracepond.http_cancel import run_query
from tracepond.query.durations import parse_retention
from tracepond.query.service import QueryService

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid name or parameter"},
    404: {"model": ErrorResponse, "description": "Unknown project (project_not_found)"},
    409: {"model": ErrorResponse, "description": "The project exists already (project_exists)"},
}
Name = Annotated[str, Path(examples=["team-a"])]


def retention_ns(text: str | None) -> int | None:
    """A project's retention: nanoseconds (``30d``), 0 for ``forever`` (its traces never
    expire, whatever the server's retention), None (absent, or ``default``) for the server's."""
    if text is None or text.strip().lower() in ("", "default"):
        return None
    try:
        return parse_retention(text)
    except ValueError as exc:
        raise InvalidRequest(f"retention: {exc}") from exc


def readable(principal: Principal | None, listed: dict[str, Any]) -> dict[str, Any]:
    """The projects of ``listed`` this principal may read: a key bound to project A learns
    neither the names nor the counts of the others (every project when auth is off)."""
    return {"projects": [p for p in listed["projects"] if may_read(principal, p["name"])]}


def add_project_routes(app: FastAPI, query: QueryService) -> None:
    @app.get(
        "/api/projects",
        tags=["projects"],
        summary="Every project this key may read, with how many spans and traces it holds",
        responses={200: {"model": ProjectList}},
    )
    async def list_projects(request: Request) -> Response:
        principal = principal_of(request)

        def projects(deadline: Deadline) -> dict[str, Any]:
            return readable(principal, query.projects())

        return json_response(await run_query(request, query.deadline(), projects))

    @app.post(
        "/api/projects",
        tags=["projects"],
        summary="Create a project (spans can be sent to it from then on)",
        status_code=201,
        responses={201: {"model": ProjectInfo}, **_ERRORS},
    )
    async def create_project(request: Request, body: ProjectCreate) -> Response:
        retention = retention_ns(body.retention)

        def create(deadline: Deadline) -> dict[str, Any]:
            return query.create_project(body.name, body.description, retention)

        return json_response(await run_query(request, query.deadline(), create), 201)

    @app.get(
        "/api/projects/{name}",
        tags=["projects"],
        summary="One project, with how many spans and traces it holds",
        responses={
            200: {"model": ProjectInfo},
            403: {"model": ErrorResponse, "description": "A key of another project"},
            **_ERRORS,
        },
    )
    async def get_project(request: Request, name: Name) -> Response:
        if not may_read(principal_of(request), name):
            # Whether the project exists or not: a key of A learns nothing of B.
            raise PermissionDenied(f"this API key may not read project {name!r}")

        def project(deadline: Deadline) -> dict[str, Any]:
            return query.project(name)

        return json_response(await run_query(request, query.deadline(), project))

    @app.patch(
        "/api/projects/{name}",
        tags=["projects"],
        summary="Change a project's retention (admin); null: the server's default",
        description="Its traces past the new retention go at the next purge pass.",
        responses={200: {"model": ProjectInfo}, **_ERRORS},
    )
    async def update_project(request: Request, name: Name, body: ProjectUpdate) -> Response:
        retention = retention_ns(body.retention)

        def update(deadline: Deadline) -> dict[str, Any]:
            return query.set_project_retention(name, retention)

        return json_response(await run_query(request, query.deadline(), update))
