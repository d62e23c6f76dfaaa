"""Which project a request of the query API reads: the one place it is resolved.

Every ``/api/*`` route (but the projects routes themselves) takes ``project_of`` as a
dependency: the ``project`` query parameter, absent meaning ``default`` so that URLs from before
projects keep working. The project must exist: a typo is a 400 (``unknown_project``), not an
empty result that looks like missing data.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from starlette.requests import Request

from tracepond.projects import DEFAULT_PROJECT, PROJECT_NAME_PATTERN
from tracepond.query.service import QueryService


def project_of(
    request: Request,
    project: Annotated[
        str | None,
        Query(
            description="the project to read (default: `default`)",
            examples=["default"],
            pattern=f"^{PROJECT_NAME_PATTERN}$",
        ),
    ] = None,
) -> str:
    query: QueryService = request.app.state.query
    return query.check_project(project or DEFAULT_PROJECT)


ProjectName = Annotated[str, Depends(project_of)]
