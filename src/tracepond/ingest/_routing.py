"""Which project a request's spans are stored in, and refusing the ones that do not exist.

In order: the project forced on the request (an API key bound to a project: the receivers pass
it down), the ``x-tracepond-project`` header (gRPC metadata), the resource attribute
``tracepond.project`` (so that a collector can route by resource), ``default``. The choice is
made per request and per resource, never per span: a request whose resources name one project
(the usual case) stays one batch.

A project is created on purpose (``tracepond projects create``), never by a first write: a name
that does not exist is refused (400 / INVALID_ARGUMENT, which exporters do not retry), so that a
typo does not silently start a new project. ``default`` always exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from tracepond.conventions import batch_from_table
from tracepond.errors import UnknownProject
from tracepond.model.spans import SpanBatch
from tracepond.projects import (
    DEFAULT_PROJECT,
    PROJECT_ATTRIBUTE,
    PROJECT_HEADER,
    check_project_name,
)


@dataclass(frozen=True)
class ProjectChoice:
    """What a request says about its project, before its spans are decoded."""

    # Set by authentication (an API key bound to a project): overrides everything else.
    forced: str | None = None
    # The x-tracepond-project header (HTTP) or metadata (gRPC), validated.
    header: str | None = None

    @property
    def fixed(self) -> str | None:
        """The project of the whole request when the request itself names it."""
        return self.forced if self.forced is not None else self.header


def project_choice(header: str | None, forced: str | None = None) -> ProjectChoice:
    """The request's choice from its ``x-tracepond-project`` header (absent or empty: none);
    InvalidRequest (400) for a value that is not a project name. ``forced``: the project the
    request's credentials are bound to (authentication passes it)."""
    if header is not None:
        header = header.strip() or None
    if header is not None:
        check_project_name(header, f"header {PROJECT_HEADER}")
    return ProjectChoice(forced=forced, header=header)


class KnownProjects:
    """Whether a project exists. Projects are never deleted, so an existing name is remembered;
    an unknown one is looked up again each time (it may have been created since)."""

    def __init__(self, lookup: Callable[[str], bool]) -> None:
        self._lookup = lookup
        self._known = {DEFAULT_PROJECT}

    def known(self, project: str) -> bool:
        """Whether ``project`` is known to exist without asking the store."""
        return project in self._known

    def check(self, project: str) -> None:
        if project in self._known:
            return
        if not self._lookup(project):
            raise UnknownProject(
                f"project {project!r} does not exist; create it with"
                f" `tracepond projects create {project}` (nothing was stored)"
            )
        self._known.add(project)


def route(batch: SpanBatch, choice: ProjectChoice) -> list[SpanBatch]:
    """The batch's spans as batches of one project each (one, unless its resources name
    several projects and the request did not name one). Raises InvalidRequest for a resource
    attribute that is not a project name."""
    fixed = choice.fixed
    if fixed is not None:
        batch.project = fixed
        return [batch]
    named = batch.origin_projects
    for value in set(named.values()):
        check_project_name(value, f"resource attribute {PROJECT_ATTRIBUTE}")
    projects = {named.get(origin, DEFAULT_PROJECT) for origin in batch.origins}
    if len(projects) <= 1:
        batch.project = projects.pop() if projects else DEFAULT_PROJECT
        return [batch]
    return [_part(batch, project) for project in sorted(projects)]


def _part(batch: SpanBatch, project: str) -> SpanBatch:
    origins = {
        origin: texts
        for origin, texts in batch.origins.items()
        if batch.origin_projects.get(origin, DEFAULT_PROJECT) == project
    }
    keep = pc.is_in(batch.table["origin_id"], value_set=pa.array(list(origins), pa.int64()))
    return batch_from_table(batch.table.filter(keep), origins, project)
