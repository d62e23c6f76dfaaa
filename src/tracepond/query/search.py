"""Trace and span search: validated parameters in, pages of API-shaped rows out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from tracepond.errors import InvalidRequest
from tracepond.model.filters import SORT_KEYS, Filters
from tracepond.model.records import PageToken, SearchRequest, SpanRecord
from tracepond.model.spans import VIEW_COLUMNS
from tracepond.query import _render
from tracepond.store.contract import SpanReader

MAX_PAGE: Final = 1000
COUNT_CAP: Final = 10_000


@dataclass(frozen=True)
class PageRequest:
    filters: Filters = field(default_factory=Filters)
    sort: str = "start_time"
    order: str = "desc"
    limit: int = 50
    cursor: str | None = None


def _request(page: PageRequest) -> SearchRequest:
    if not 1 <= page.limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}, got {page.limit}")
    if page.sort not in SORT_KEYS:
        raise InvalidRequest(f"sort must be one of {', '.join(SORT_KEYS)}, got {page.sort!r}")
    if page.order not in ("asc", "desc"):
        raise InvalidRequest(f"order must be asc or desc, got {page.order!r}")
    # The cursor is the store's page token, passed back unchanged (the store refuses one that
    # is not its own or not of this search).
    return SearchRequest(
        filters=page.filters,
        sort=page.sort,
        descending=page.order == "desc",
        limit=page.limit,
        after=PageToken(page.cursor) if page.cursor else None,
        count_cap=COUNT_CAP,
    )


def search_traces(store: SpanReader, page: PageRequest) -> dict[str, Any]:
    result = store.search_traces(_request(page))
    return {
        "traces": [_render.listed_trace(t) for t in result.rows],
        "next_cursor": result.next_after,
        "count": result.count,
        "count_capped": result.capped,
    }


def search_spans(store: SpanReader, page: PageRequest) -> dict[str, Any]:
    result = store.search_spans(_request(page))
    return {
        "spans": [span_hit(r) for r in result.rows],
        "next_cursor": result.next_after,
        "count": result.count,
        "count_capped": result.capped,
    }


def span_hit(record: SpanRecord) -> dict[str, Any]:
    """A span as search returns it: with its trace id, its normalized scalar fields and its raw
    attributes (the full view is one request away: /api/traces/{t}/spans/{s})."""
    parent = record["parent_span_id"]
    return {
        "trace_id": record["trace_id"].hex(),
        "span_id": record["span_id"].hex(),
        "parent_span_id": parent.hex() if parent is not None else None,
        "name": record["name"],
        "kind": _render.SPAN_KINDS[record["kind"]] if record["kind"] < 6 else str(record["kind"]),
        "service_name": record["service_name"],
        "start_time_unix_nano": record["start_ns"],
        "end_time_unix_nano": record["end_ns"],
        "duration_ns": record["duration_ns"],
        "status": {
            "code": _render.STATUS_CODES[record["status_code"]]
            if record["status_code"] < 3
            else str(record["status_code"]),
            "message": record["status_message"] or "",
        },
        **{key: record[key] for key in VIEW_COLUMNS},
        "attributes": orjson.loads(record["attributes_json"]),
    }
