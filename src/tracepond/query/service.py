"""The query service: the one place the HTTP API (and later the web view and client) read from.

It validates ids and parameters, asks the store, and shapes results; it never builds SQL.
"""

from __future__ import annotations

from typing import Any

from tracepond.errors import NotFound
from tracepond.query import _render, insights, search, stats
from tracepond.query.filters import Filters
from tracepond.query.tree import build_tree
from tracepond.store.base import SpanStore


class QueryService:
    def __init__(self, store: SpanStore) -> None:
        self._store = store

    def trace_tree(self, trace_hex: str) -> dict[str, Any]:
        trace_id = _render.parse_hex_id(trace_hex, 16, "trace_id")
        found = self._store.trace(trace_id, columns="tree")
        if found is None:
            raise NotFound(f"trace {trace_hex} not found")
        summary, records = found
        return {
            "trace_id": trace_id.hex(),
            "summary": _render.trace_summary(summary),
            "roots": build_tree(records, _render.span_node),
        }

    def span(self, trace_hex: str, span_hex: str) -> dict[str, Any]:
        trace_id = _render.parse_hex_id(trace_hex, 16, "trace_id")
        span_id = _render.parse_hex_id(span_hex, 8, "span_id")
        record = self._store.span(trace_id, span_id)
        if record is None:
            raise NotFound(f"span {span_hex} of trace {trace_hex} not found")
        return _render.span_detail(record)

    # -- search, sessions, stats, skeletons, export (docs/query.md) ----------------------------

    def search_traces(self, page: search.PageRequest) -> dict[str, Any]:
        return search.search_traces(self._store, page)

    def search_spans(self, page: search.PageRequest) -> dict[str, Any]:
        return search.search_spans(self._store, page)

    def sessions(
        self,
        limit: int = 50,
        cursor: str | None = None,
        since_ns: int | None = None,
        user_id: str | None = None,
    ) -> dict[str, Any]:
        return insights.sessions(self._store, limit, cursor, since_ns, user_id)

    def session(self, session_id: str) -> dict[str, Any]:
        return insights.session(self._store, session_id)

    def stats(
        self,
        filters: Filters,
        bucket_ns: int | None,
        group_by: str | None,
        level: str = "span",
    ) -> dict[str, Any]:
        return stats.stats(self._store, filters, bucket_ns, group_by, level)

    def skeleton(
        self,
        trace_hex: str,
        parent: str | None = None,
        max_depth: int | None = None,
        limit: int = insights.MAX_SKELETON_PAGE,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        return insights.skeleton(self._store, trace_hex, parent, max_depth, limit, cursor)

    def trace_otlp(self, trace_hex: str) -> dict[str, Any]:
        return insights.trace_otlp(self._store, trace_hex)
