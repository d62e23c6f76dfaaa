"""FastAPI routes of the Jaeger-compatible API (see the package docstring)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from tracepond.errors import TracepondError
from tracepond.http_cancel import run_query
from tracepond.jaeger._convert import KINDS, trace_json
from tracepond.model.jaeger import TraceQuery
from tracepond.projects import DEFAULT_PROJECT, PROJECT_HEADER
from tracepond.query import durations
from tracepond.query.service import QueryService
from tracepond.query.suggest import did_you_mean, nearest, one_of

DEFAULT_LIMIT = 20
MAX_LIMIT = 1500


def _json(data: Any, status: int = 200, errors: list[dict[str, Any]] | None = None) -> Response:
    total = len(data) if isinstance(data, list) else 0
    body = {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json(None, status, [{"code": status, "msg": message}])


def parse_duration(text: str, what: str) -> int:
    """A duration parameter in nanoseconds: Go's ``time.ParseDuration`` forms (``1.5s``,
    ``300ms``, ``1m30s``), as every duration of tracepond (query/durations.py)."""
    try:
        return durations.parse_duration(text)
    except durations.DurationError as exc:
        raise ValueError(f"{what}: {exc}") from exc


def parse_tags(values: list[str]) -> dict[str, str]:
    """``tags`` as Jaeger's UI sends it (a JSON object) or as ``key=value key2=value2``."""
    tags: dict[str, str] = {}
    for text in values:
        text = text.strip()
        if not text:
            continue
        if text.startswith("{"):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"tags is not valid JSON: {exc}") from exc
            if not isinstance(parsed, dict):
                raise ValueError("tags must be a JSON object")
            for key, value in parsed.items():
                tags[str(key)] = _tag_text(value)
            continue
        for pair in text.split():
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ValueError(f"invalid tag {pair!r} (expected key=value)")
            tags[key] = value.strip('"')
    if "" in tags:
        raise ValueError("a tag needs a key")
    return tags


def _tag_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int_param(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    # int() refuses more than 4300 digits; 19 hold any int64.
    if len(text) > 20 or not re.fullmatch(r"-?\d+", text, re.ASCII):
        raise ValueError(f"{name} must be an integer")
    value = int(text)
    if not -(2**63) // 1000 <= value < 2**63 // 1000:  # microseconds, made nanoseconds
        raise ValueError(f"{name} is out of range")
    return value


def search_from_query(request: Request) -> TraceQuery:
    query = request.query_params
    limit = _int_param(request, "limit") or DEFAULT_LIMIT
    if limit < 1:
        raise ValueError("limit must be positive")
    start_us = _int_param(request, "start")
    end_us = _int_param(request, "end")
    min_duration = query.get("minDuration") or None
    max_duration = query.get("maxDuration") or None
    return TraceQuery(
        service=query.get("service") or None,
        operation=query.get("operation") or None,
        tags=parse_tags(query.getlist("tags")),
        min_duration_ns=parse_duration(min_duration, "minDuration") if min_duration else None,
        max_duration_ns=parse_duration(max_duration, "maxDuration") if max_duration else None,
        start_ns=start_us * 1000 if start_us is not None else None,
        end_ns=end_us * 1000 if end_us is not None else None,
        limit=min(limit, MAX_LIMIT),
    )


def _parse_trace_id(text: str) -> bytes:
    text = text.strip().lower()
    if not text or len(text) > 32 or not re.fullmatch(r"[0-9a-f]+", text):
        raise ValueError("trace id must be up to 32 hex characters")
    return bytes.fromhex(text.rjust(32, "0"))


def mount(app: FastAPI, query: QueryService) -> None:
    """Serve the Jaeger-compatible API under ``/jaeger/api/`` from ``app``, reading through
    ``query``. Every read runs under a deadline of the query time limit, stopped when the
    client goes away; a read that fails (time or memory limit) answers Jaeger's error shape
    with the error's status."""

    async def read(request: Request, call: Callable[..., Any], *args: Any) -> Any:
        return await run_query(request, query.deadline(), call, *args)

    async def traces(request: Request, ids: list[bytes], project: str) -> list[dict[str, Any]]:
        found = await read(request, query.traces_spans, ids, project)
        return [trace_json(trace_id, records) for trace_id, records in found]

    async def get_services(request: Request) -> Response:
        return _json(await read(request, query.services, project_of(request)))

    async def get_service_operations(request: Request) -> Response:
        service = request.path_params["service"]
        found = await read(request, query.operations, service, None, project_of(request))
        return _json(sorted({operation.name for operation in found}))

    async def get_operations(request: Request) -> Response:
        service = request.query_params.get("service")
        if not service:
            return _error(400, "parameter 'service' is required")
        span_kind = request.query_params.get("spanKind") or None
        kind: int | None = None
        if span_kind is not None:
            if span_kind not in KINDS[1:]:
                meant = did_you_mean(nearest(span_kind, KINDS[1:]))
                kinds = one_of(KINDS[1:])
                return _error(400, f"spanKind: `{span_kind}` is not one of {kinds}.{meant}")
            kind = KINDS.index(span_kind)
        found = await read(request, query.operations, service, kind, project_of(request))
        data = [
            {"name": o.name, "spanKind": KINDS[o.kind] if 0 < o.kind < len(KINDS) else ""}
            for o in found
        ]
        return _json(data)

    def project_of(request: Request) -> str:
        """Like Jaeger's own x-tenant: the x-tracepond-project header, else ``?project=``,
        else ``default``; a project that does not exist is a 400."""
        name = request.headers.get(PROJECT_HEADER) or request.query_params.get("project")
        return query.check_project(name.strip() if name else DEFAULT_PROJECT)

    async def find_traces(request: Request) -> Response:
        project = project_of(request)
        ids_param = request.query_params.getlist("traceID")
        try:
            if ids_param:
                ids = [_parse_trace_id(t) for t in ids_param]
            else:
                search = search_from_query(request)
                ids = await read(request, query.find_trace_ids, search, project)
        except ValueError as exc:
            return _error(400, str(exc))
        return _json(await traces(request, ids, project))

    async def get_trace(request: Request) -> Response:
        try:
            trace_id = _parse_trace_id(request.path_params["trace_id"])
        except ValueError as exc:
            return _error(400, str(exc))
        found = await traces(request, [trace_id], project_of(request))
        if not found:
            return _error(404, "trace not found")
        return _json(found)

    async def dependencies(request: Request) -> Response:
        return _json([])

    routes = (
        ("/jaeger/api/services", get_services),
        ("/jaeger/api/services/{service}/operations", get_service_operations),
        ("/jaeger/api/operations", get_operations),
        ("/jaeger/api/traces", find_traces),
        ("/jaeger/api/traces/{trace_id}", get_trace),
        ("/jaeger/api/dependencies", dependencies),
    )
    for path, handler in routes:
        route = _jaeger_errors(handler)
        app.router.add_route(path, route, methods=["GET"], include_in_schema=False)


def _jaeger_errors(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
    """Errors of a read (time limit, memory limit, store) in Jaeger's error shape."""

    async def answer(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except TracepondError as exc:
            return _error(exc.http_status, exc.message)
        return response

    return answer
