"""The typed records that cross the store contract (``store/base.py``): what a write returns,
the store's health, trace summaries and pages, span records, and search and stats requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from tracepond.model.filters import Filters
from tracepond.model.spans import VIEW_COLUMNS


@dataclass(frozen=True)
class WriteResult:
    """What one ``write`` call stored: new spans, and duplicates that were already there."""

    inserted: int
    duplicates: int


StoreState = Literal["ok", "failing", "recovering", "closed"]


@dataclass(frozen=True)
class StoreHealth:
    """Whether the store can write. ``failing``: the last write or checkpoint failed for a
    reason retrying can fix (writes are still tried); ``recovering``: the store refuses writes
    until ``recover`` has reopened it; ``reason`` says why, for operators."""

    state: StoreState
    reason: str = ""

    @property
    def writable(self) -> bool:
        return self.state == "ok"


@dataclass(frozen=True)
class TraceSummary:
    trace_id: bytes
    root_span_id: bytes | None
    # The root span's name; while the root has not arrived, the earliest span's name.
    root_name: str
    service_name: str
    start_ns: int
    end_ns: int
    span_count: int
    error_count: int
    # Counted on leaf LLM/embedding spans only (see conventions.trace_totals).
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None
    models: list[str]
    session_id: str | None
    user_id: str | None
    llm_count: int
    tool_count: int
    retriever_count: int
    # Filled by trace search only (store/_search_previews.py): what the root span was asked and
    # answered (first line, bounded) and its tags.
    input_preview: str | None = None
    output_preview: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TracePage:
    traces: list[TraceSummary]
    # Opaque position after the last trace of this page; None when there is no further page.
    next_cursor: tuple[int, bytes] | None


# One stored span as a mapping of column name -> value (JSON columns still as text). A whole
# span ("all") carries its origin as ``resource_json`` and ``scope_json``, not ``origin_id``.
SpanRecord = dict[str, Any]
# Which stored columns a trace read returns: everything, or what a tree node shows.
SpanColumns = Literal["all", "tree"]
# What every read of spans starts with: identity, place in the tree, service, timing.
SPAN_HEAD_COLUMNS = (
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "service_name",
    "start_ns",
    "end_ns",
)
TREE_COLUMNS = (
    *SPAN_HEAD_COLUMNS,
    "duration_ns",
    "status_code",
    "status_message",
    "attributes_json",
    "events_json",
    "links_json",
    "truncated_json",
    # The normalized view: its JSON part and its scalar columns (conventions.view_from_json).
    "view_json",
    *VIEW_COLUMNS,
)
Row = TypeVar("Row")


@dataclass(frozen=True)
class SearchRequest:
    """One page of a trace or span search. ``after`` is the ``next_after`` of the previous page
    and ``as_of`` its ``as_of`` (None on the first page: the store fixes it)."""

    filters: Filters
    sort: str = "start_time"  # start_time | duration | tokens | cost
    descending: bool = True
    limit: int = 50
    after: tuple[Any, ...] | None = None
    as_of: int | None = None
    count_cap: int = 10_000


@dataclass(frozen=True)
class SearchPage(Generic[Row]):
    rows: list[Row]
    # (sort value, *ids) of the last row when there is a further page, else None.
    next_after: tuple[Any, ...] | None
    # Matches (of the whole search, not just this page) up to count_cap; capped: there are more.
    count: int
    capped: bool
    # Only data committed at or before this ingest time is seen by this search's pages.
    as_of: int


@dataclass(frozen=True)
class StatsRequest:
    filters: Filters
    since_ns: int
    until_ns: int
    bucket_ns: int | None  # None: one row per group over the whole range
    # Spans: model | service | name | category | None. Traces: model | service | name | None.
    group_by: str | None
