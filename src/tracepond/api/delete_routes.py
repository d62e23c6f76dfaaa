"""Deletion routes: one trace, or every trace a search matches (docs/operate.md, "Retention
and deletion"). Admin scope: every route here depends on ``deletion_requester``, the one hook
the authentication layer guards."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tracepond.api._json import json_response
from tracepond.api._params import search_filters
from tracepond.api._project import ProjectName
from tracepond.api.models import ErrorResponse, QueryErrorResponse
from tracepond.errors import InvalidRequest, NotFound
from tracepond.model.filters import Filters
from tracepond.query._render import parse_hex_id
from tracepond.retention.deleter import Requester, TraceDeleter, describe_filters

TraceId = Annotated[
    str,
    Path(description="32 lowercase hex characters", examples=["5b8efff798038103d269b633813fc60c"]),
]


class Deleted(BaseModel):
    deleted: int = Field(description="traces deleted (each with all its spans)")


def deletion_requester(request: Request, project: ProjectName) -> Requester:
    """Who asks for this deletion, for its log line. The admin scope is checked before this
    runs, by the auth middleware (api/auth.py: every non-GET ``/api/*`` route needs an admin
    key). Without auth there is no principal, and the key name is None in the log line."""
    principal = getattr(request.state, "principal", None)
    key_name = getattr(principal, "key_name", None)
    return Requester(key_name=key_name, project=project)


Admin = Annotated[Requester, Depends(deletion_requester)]
Filtered = Annotated[Filters, Depends(search_filters)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": QueryErrorResponse, "description": "Invalid parameter or query"},
    404: {"model": ErrorResponse, "description": "Unknown trace"},
    503: {"model": ErrorResponse, "description": "The store cannot write now; retry"},
}


def add_delete_routes(app: FastAPI, deleter: TraceDeleter) -> None:
    @app.delete(
        "/api/traces/{trace_id}",
        tags=["deletion"],
        summary="Delete one trace with all its spans (admin)",
        responses={200: {"model": Deleted}, **_ERRORS},
    )
    async def delete_trace(trace_id: TraceId, project: ProjectName, requester: Admin) -> Response:
        trace = parse_hex_id(trace_id, 16, "trace_id")
        deleted = await run_in_threadpool(deleter.delete_trace, project, trace, requester)
        if not deleted:
            raise NotFound(f"trace {trace_id} not found")
        return json_response({"deleted": deleted})

    @app.post(
        "/api/traces/delete",
        tags=["deletion"],
        summary="Delete every trace a search matches (admin)",
        description="Takes the filters of GET /api/traces (and its query language, q) and"
        " deletes every trace that search lists now, in batches; answers how many. Without any"
        " filter it refuses, unless all=true. Stopped midway (a restart), it has deleted part"
        " of them: run it again, it deletes the rest.",
        responses={200: {"model": Deleted}, **_ERRORS},
    )
    async def delete_matching(
        request: Request,
        filters: Filtered,
        project: ProjectName,
        requester: Admin,
        delete_all: Annotated[
            bool, Query(alias="all", description="allow deleting every trace (no filter given)")
        ] = False,
    ) -> Response:
        if filters == Filters() and not delete_all:
            raise InvalidRequest(
                "no filter given: this would delete every trace; add all=true to mean it"
            )
        filters = replace(filters, project=project)
        described = describe_filters(filters, request.query_params.get("q"))
        deleted = await run_in_threadpool(deleter.delete_matching, filters, requester, described)
        return json_response({"deleted": deleted})
