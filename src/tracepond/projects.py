"""Projects: the neutral vocabulary every layer shares (names, the default project, one record).

Every span, trace, session and aggregate belongs to exactly one project. ``default`` always
exists; others are created on purpose (``tracepond projects create``), never by a first write,
so that a typo in a header or resource attribute is refused instead of starting a new pile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tracepond.errors import InvalidRequest

DEFAULT_PROJECT: Final = "default"
# Lowercase, so that "Team-A" and "team-a" cannot be two projects; bounded, so that a name fits
# a metric label and a URL.
PROJECT_NAME_PATTERN: Final = r"[a-z0-9][a-z0-9_-]{0,62}"
PROJECT_NAME: Final = re.compile(PROJECT_NAME_PATTERN)
# What the ingest receivers and the Jaeger API read the project from.
PROJECT_HEADER: Final = "x-tracepond-project"
PROJECT_ATTRIBUTE: Final = "tracepond.project"


def is_project_name(name: object) -> bool:
    return isinstance(name, str) and PROJECT_NAME.fullmatch(name) is not None


def check_project_name(name: str, where: str = "project") -> str:
    """``name`` when it is a valid project name; InvalidRequest (400) otherwise."""
    if not is_project_name(name):
        raise InvalidRequest(
            f"{where}: {name[:80]!r} is not a project name (lowercase letters, digits, '-' and"
            " '_', starting with a letter or digit, at most 63 characters)"
        )
    return name


@dataclass(frozen=True)
class Project:
    name: str
    created_ns: int
    description: str | None = None
    # None: the server-wide retention applies (docs/operate.md, "Retention").
    retention_ns: int | None = None
    # Filled by the list and get reads: what the project holds now.
    span_count: int = 0
    trace_count: int = 0
