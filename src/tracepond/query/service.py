"""The query service: the one place the HTTP API, the web view and the Jaeger API read from.

It validates ids and parameters, asks the store, and shapes results; it never builds SQL. Every
call runs under a ``Deadline``: the caller's (the API cancels it when the client goes away), or
one of the query time limit; the store stops the read when it passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from tracepond.deadline import Deadline
from tracepond.errors import NotFound, ProjectNotFound, UnknownProject
from tracepond.model.filters import Filters
from tracepond.model.jaeger import Operation, TraceQuery
from tracepond.model.records import SpanRecord
from tracepond.projects import DEFAULT_PROJECT, check_project_name
from tracepond.query import _render, insights, search, stats
from tracepond.query.tree import build_tree
from tracepond.store.contract import ProjectWriter, SpanReader


class QueryStore(SpanReader, ProjectWriter, Protocol):
    """What the query service uses of a store: its reads, and the project catalog's writes
    (creating a project, setting its retention); never span writes."""


class QueryService:
    def __init__(self, store: QueryStore, timeout_seconds: float | None = None) -> None:
        self._store = store
        self.timeout_seconds = timeout_seconds
        # Projects are never deleted, so a name once found stays valid and every read can skip
        # the store's lookup; names not found are asked again (another receiver may create them).
        self._known_projects: set[str] = set()

    def deadline(self) -> Deadline:
        """A new deadline of the query time limit, for a caller that may cancel it earlier."""
        return Deadline(self.timeout_seconds)

    @contextmanager
    def _limited(self, deadline: Deadline | None) -> Iterator[None]:
        with self._store.cancellable(deadline or self.deadline()):
            yield

    def trace_tree(
        self, trace_hex: str, deadline: Deadline | None = None, project: str = DEFAULT_PROJECT
    ) -> dict[str, Any]:
        trace_id = _render.parse_hex_id(trace_hex, 16, "trace_id")
        with self._limited(deadline):
            found = self._store.trace(trace_id, columns="tree", project=project)
        if found is None:
            raise NotFound(f"trace {trace_hex} not found")
        summary, records = found
        return {
            "trace_id": trace_id.hex(),
            "summary": _render.trace_summary(summary),
            "roots": build_tree(records, _render.span_node),
        }

    def span(
        self,
        trace_hex: str,
        span_hex: str,
        deadline: Deadline | None = None,
        project: str = DEFAULT_PROJECT,
    ) -> dict[str, Any]:
        trace_id = _render.parse_hex_id(trace_hex, 16, "trace_id")
        span_id = _render.parse_hex_id(span_hex, 8, "span_id")
        with self._limited(deadline):
            record = self._store.span(trace_id, span_id, project)
        if record is None:
            raise NotFound(f"span {span_hex} of trace {trace_hex} not found")
        return _render.span_detail(record)

    # -- search, sessions, stats, skeletons, export (docs/query.md) ----------------------------

    def search_traces(
        self, page: search.PageRequest, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return search.search_traces(self._store, page)

    def search_spans(
        self, page: search.PageRequest, deadline: Deadline | None = None
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return search.search_spans(self._store, page)

    def sessions(
        self,
        limit: int = 50,
        cursor: str | None = None,
        since_ns: int | None = None,
        user_id: str | None = None,
        deadline: Deadline | None = None,
        project: str = DEFAULT_PROJECT,
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return insights.sessions(self._store, limit, cursor, since_ns, user_id, project)

    def session(
        self, session_id: str, deadline: Deadline | None = None, project: str = DEFAULT_PROJECT
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return insights.session(self._store, session_id, project)

    def stats(
        self,
        filters: Filters,
        bucket_ns: int | None,
        group_by: str | None,
        level: str = "span",
        deadline: Deadline | None = None,
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return stats.stats(self._store, filters, bucket_ns, group_by, level)

    def skeleton(
        self,
        trace_hex: str,
        parent: str | None = None,
        max_depth: int | None = None,
        limit: int = insights.MAX_SKELETON_PAGE,
        cursor: str | None = None,
        deadline: Deadline | None = None,
        project: str = DEFAULT_PROJECT,
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return insights.skeleton(
                self._store, trace_hex, parent, max_depth, limit, cursor, project
            )

    def trace_otlp(
        self, trace_hex: str, deadline: Deadline | None = None, project: str = DEFAULT_PROJECT
    ) -> dict[str, Any]:
        with self._limited(deadline):
            return insights.trace_otlp(self._store, trace_hex, project)

    # -- Jaeger reads (jaeger/: the API renders the records in Jaeger's shapes) ---------------

    def services(self, project: str, deadline: Deadline | None = None) -> list[str]:
        with self._limited(deadline):
            return self._store.services(project)

    def operations(
        self, service: str, kind: int | None, project: str, deadline: Deadline | None = None
    ) -> list[Operation]:
        with self._limited(deadline):
            return self._store.operations(service, kind, project)

    def find_trace_ids(
        self, query: TraceQuery, project: str, deadline: Deadline | None = None
    ) -> list[bytes]:
        with self._limited(deadline):
            return self._store.find_trace_ids(query, project)

    def traces_spans(
        self, trace_ids: list[bytes], project: str, deadline: Deadline | None = None
    ) -> list[tuple[bytes, list[SpanRecord]]]:
        """Each trace's id and stored spans (by start time), in the order asked; unknown
        traces left out."""
        found = []
        with self._limited(deadline):
            for trace_id in trace_ids:
                records = self._store.trace_spans(trace_id, project)
                if records:
                    found.append((trace_id, records))
        return found

    # -- projects ------------------------------------------------------------------------------

    def projects(self) -> dict[str, Any]:
        return {"projects": [_render.project(p) for p in self._store.projects_list()]}

    def project(self, name: str) -> dict[str, Any]:
        found = self._store.projects_get(check_project_name(name))
        if found is None:
            raise ProjectNotFound(f"project {name!r} does not exist")
        return _render.project(found)

    def check_project(self, name: str) -> str:
        """``name`` when it is a project that exists: every read names one (400 otherwise:
        unknown_project, invalid_request)."""
        check_project_name(name)
        if name in self._known_projects:
            return name
        if not self._store.projects_exists(name):
            raise UnknownProject(f"project {name!r} does not exist")
        self._known_projects.add(name)
        return name

    def create_project(
        self, name: str, description: str | None, retention_ns: int | None
    ) -> dict[str, Any]:
        check_project_name(name)
        return _render.project(self._store.projects_create(name, description, retention_ns))

    def set_project_retention(self, name: str, retention_ns: int | None) -> dict[str, Any]:
        return _render.project(self._store.projects_set_retention(name, retention_ns))
