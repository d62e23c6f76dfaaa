"""Search filters as typed values: what ``GET /api/traces`` and ``/api/spans`` (and the client)
accept, validated once by the query layer (``query/filters.py`` parses them). The store turns
them into SQL (``store/_search_sql.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from tracepond.model import ql_ast
from tracepond.projects import DEFAULT_PROJECT

AttrOp = Literal["eq", "ne", "gt", "ge", "lt", "le", "exists", "contains"]
SortKey = Literal["start_time", "duration", "tokens", "cost"]
SORT_KEYS: Final = ("start_time", "duration", "tokens", "cost")


@dataclass(frozen=True)
class AttrFilter:
    """A condition on one raw span attribute; ``value`` is None for ``exists``."""

    key: str
    op: AttrOp
    value: str | None = None


@dataclass(frozen=True)
class Filters:
    """Every filter; None means "not filtered". At trace level a span-level condition (category,
    attribute, tag, text, q) means "the trace has a span that matches"."""

    since_ns: int | None = None
    until_ns: int | None = None
    service: str | None = None
    status: Literal["error", "ok"] | None = None
    name: str | None = None
    category: str | None = None
    model: str | None = None
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    min_documents: int | None = None
    max_documents: int | None = None
    session_id: str | None = None
    user_id: str | None = None
    tag: str | None = None
    attributes: tuple[AttrFilter, ...] = field(default_factory=tuple)
    text: str | None = None
    query: ql_ast.TraceExpr | None = None
    # Not a filter one may leave out: every search is within one project.
    project: str = DEFAULT_PROJECT
