"""The search API: trace and span search, sessions, stats, skeletons, OTLP export.

Every route runs its query through ``run_query``: under the query time limit, and stopped when
the client goes away."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query
from starlette.requests import Request
from starlette.responses import Response

from tracepond.api._json import json_response
from tracepond.api._params import search_filters
from tracepond.api._project import ProjectName
from tracepond.api.models import (
    CompactSkeleton,
    ErrorResponse,
    QueryErrorResponse,
    SessionDetail,
    SessionList,
    Skeleton,
    SpanSearch,
    Stats,
    TraceSearch,
)
from tracepond.deadline import Deadline
from tracepond.http_cancel import run_query
from tracepond.model.filters import Filters
from tracepond.query.filters import parse_duration, parse_time
from tracepond.query.search import MAX_PAGE, PageRequest
from tracepond.query.service import QueryService
from tracepond.query.skeleton_compact import compact_skeleton

TraceId = Annotated[
    str,
    Path(description="32 lowercase hex characters", examples=["5b8efff798038103d269b633813fc60c"]),
]
Sort = Annotated[Literal["start_time", "duration", "tokens", "cost"], Query(description="sort key")]
Order = Annotated[Literal["desc", "asc"], Query(description="sort direction")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
_LIMITS: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorResponse,
        "description": "The query hit its time or memory limit (query_timeout, query_memory_limit)",
    },
}
_SEARCH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": QueryErrorResponse,
        "description": "Invalid parameter, query syntax error or query too complex",
    },
    **_LIMITS,
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Invalid id or parameter"},
    404: {"model": ErrorResponse, "description": "Unknown trace, span or session"},
    **_LIMITS,
}
Filtered = Annotated[Filters, Depends(search_filters)]


def add_query_routes(app: FastAPI, query: QueryService) -> None:
    _search_routes(app, query)
    _session_routes(app, query)
    _trace_routes(app, query)


def _search_routes(app: FastAPI, query: QueryService) -> None:
    @app.get(
        "/api/traces",
        tags=["search"],
        summary="Search traces (no parameters: the newest first)",
        description="Filters combine with AND; span-level filters (category, attr, tag, text, q)"
        " mean the trace has a matching span. Pages are a snapshot taken at the first page.",
        responses={200: {"model": TraceSearch}, **_SEARCH_ERRORS},
    )
    async def search_traces(
        request: Request,
        project: ProjectName,
        filters: Filtered,
        sort: Sort = "start_time",
        order: Order = "desc",
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response:
        page = PageRequest(replace(filters, project=project), sort, order, limit, cursor)
        return json_response(await run_query(request, query.deadline(), query.search_traces, page))

    @app.get(
        "/api/spans",
        tags=["search"],
        summary="Search spans, each with its trace id",
        responses={200: {"model": SpanSearch}, **_SEARCH_ERRORS},
    )
    async def search_spans(
        request: Request,
        project: ProjectName,
        filters: Filtered,
        sort: Sort = "start_time",
        order: Order = "desc",
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response:
        page = PageRequest(replace(filters, project=project), sort, order, limit, cursor)
        return json_response(await run_query(request, query.deadline(), query.search_spans, page))

    @app.get(
        "/api/stats",
        tags=["search"],
        summary="Span or trace aggregates per time bucket and group",
        description="`level=span` (the default): over spans starting in [since, until) (default:"
        " the last 24 h): count, errors, latency p50/p95/p99, tokens in/out, cost; other filters"
        " apply per span. `level=trace`: over traces starting in [since, until), from their"
        " summaries: `count` is traces, `error_count` traces with an error span, latency the"
        " trace durations, tokens and cost the traces' totals (each LLM call once: leaf calls"
        " only); other filters mean what they mean for /api/traces, so a bucket counts the"
        " traces /api/traces finds for it. At trace level `group_by` is service (the root's),"
        " name (the root span's) or model: a trace counts under every model its LLM calls used"
        " (null: none), with its whole totals, so with several models per trace the groups add"
        " up to more than the traces; with a `model` filter only that model's group is listed.",
        responses={200: {"model": Stats}, **_SEARCH_ERRORS},
    )
    async def stats(
        request: Request,
        project: ProjectName,
        filters: Filtered,
        bucket: Annotated[
            str | None,
            Query(
                description="bucket size: nanoseconds or 5m, 1h; none: one bucket", examples=["5m"]
            ),
        ] = None,
        group_by: Annotated[
            Literal["model", "service", "name", "category"] | None,
            Query(description="category: span level only"),
        ] = None,
        level: Annotated[
            Literal["span", "trace"],
            Query(description="aggregate spans, or traces (by trace start)"),
        ] = "span",
    ) -> Response:
        bucket_ns = parse_duration(bucket, "bucket")
        deadline = query.deadline()
        filters = replace(filters, project=project)
        return json_response(
            await run_query(request, deadline, query.stats, filters, bucket_ns, group_by, level)
        )


def _session_routes(app: FastAPI, query: QueryService) -> None:
    @app.get(
        "/api/sessions",
        tags=["sessions"],
        summary="Sessions, most recently active first",
        responses={200: {"model": SessionList}, **_NOT_FOUND},
    )
    async def sessions(
        request: Request,
        project: ProjectName,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
        cursor: Cursor = None,
        since: Annotated[
            str | None, Query(description="active at or after (like /api/traces)")
        ] = None,
        user_id: Annotated[str | None, Query()] = None,
    ) -> Response:
        since_ns = parse_time(since, "since")
        deadline = query.deadline()
        return json_response(
            await run_query(
                request,
                deadline,
                partial(query.sessions, project=project),
                limit,
                cursor,
                since_ns,
                user_id,
            )
        )

    @app.get(
        "/api/sessions/{session_id}",
        tags=["sessions"],
        summary="A session's traces in order, with first input and last output: the conversation",
        responses={200: {"model": SessionDetail}, **_NOT_FOUND},
    )
    async def session(
        request: Request,
        project: ProjectName,
        session_id: Annotated[str, Path(examples=["session-42"])],
    ) -> Response:
        call = partial(query.session, project=project)
        return json_response(await run_query(request, query.deadline(), call, session_id))


def _trace_routes(app: FastAPI, query: QueryService) -> None:
    @app.get(
        "/api/traces/{trace_id}/skeleton",
        tags=["traces"],
        summary="A trace's skeleton: spans without payload, with subtree totals",
        description="Flat, depth-first. `parent` lists one level (the children of a span, or"
        " `root` for the roots), paged with limit/cursor; `max_depth` keeps the top levels."
        " Fetch a span's payload with /api/traces/{trace_id}/spans/{span_id}.",
        responses={200: {"model": Skeleton}, **_NOT_FOUND},
    )
    async def skeleton(
        request: Request,
        project: ProjectName,
        trace_id: TraceId,
        parent: Annotated[str | None, Query(description="a span id, or root")] = None,
        max_depth: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
        cursor: Cursor = None,
    ) -> Response:
        deadline = query.deadline()
        args = (trace_id, parent, max_depth, limit, cursor)
        call = partial(query.skeleton, project=project)
        return json_response(await run_query(request, deadline, call, *args))

    @app.get(
        "/api/traces/{trace_id}/skeleton/compact",
        tags=["traces"],
        summary="A trace's skeleton as columns: what the web view loads for a trace",
        description="The nodes of /api/traces/{trace_id}/skeleton (depth-first, paged with"
        " limit/cursor, `max_depth` keeps the top levels) as one array per field, in about a"
        " fifth of the bytes: no parent ids (a node's parent is the last node before it one"
        " level up), times after `origin_ns`, repeated strings as indexes into `strings`.",
        responses={200: {"model": CompactSkeleton}, **_NOT_FOUND},
    )
    async def skeleton_compact(
        request: Request,
        project: ProjectName,
        trace_id: TraceId,
        max_depth: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 100_000,
        cursor: Cursor = None,
    ) -> Response:
        def compact(deadline: Deadline) -> dict[str, Any]:
            skeleton = query.skeleton(
                trace_id, None, max_depth, limit, cursor, deadline, project=project
            )
            return compact_skeleton(skeleton)

        return json_response(await run_query(request, query.deadline(), compact))

    @app.get(
        "/api/traces/{trace_id}/otlp",
        tags=["traces"],
        summary="A trace as OTLP/JSON (POST it to /v1/traces to import it back)",
        responses={200: {"content": {"application/json": {}}}, **_NOT_FOUND},
    )
    async def trace_otlp(request: Request, project: ProjectName, trace_id: TraceId) -> Response:
        call = partial(query.trace_otlp, project=project)
        return json_response(await run_query(request, query.deadline(), call, trace_id))
