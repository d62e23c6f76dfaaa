"""The typed records that cross the store contract (``store/contract.py``): what a write
returns, the store's health and capabilities, trace summaries and pages, span records, session
and stats rows, search and stats requests, and the opaque page tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, NewType, TypeVar

from tracepond.model.filters import Filters
from tracepond.model.spans import SPAN_COLUMNS, VIEW_COLUMNS


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


@dataclass(frozen=True, slots=True)
class StoreCapabilities:
    """What a store can do beyond the contract every store honours; callers ask these instead
    of checking which engine they have.

    * ``indexed_full_text``: full-text search is answered from an index (otherwise a scan).
    * ``housekeeping``: the store wants ``commit_room`` and idle ``checkpoint`` calls from the
      writer (DuckDB folds its WAL into the file); without it the writer never calls them.
    * ``size_budget``: ``used_bytes`` measures what deleting traces gives back, so a size budget
      (``--max-db-size``) can be kept by purging the oldest traces.
    * ``ttl_retention``: the engine expires data by itself (ClickHouse TTL); the retention task
      then only adds what the engine cannot express (per-project retentions)."""

    indexed_full_text: bool = False
    housekeeping: bool = False
    size_budget: bool = False
    ttl_retention: bool = False


# A page position as the store encodes it: opaque to every caller, which passes the one a page
# returned back unchanged to get the next page (``next_cursor`` of the HTTP API). A store
# rejects a token that is not one of its own, or not of this read, with ``InvalidRequest``.
PageToken = NewType("PageToken", str)


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
    # The position after the last trace of this page; None when there is no further page.
    next_cursor: PageToken | None


# One stored span as a mapping of column name -> value (JSON columns still as text). Kept a
# dict (not a TypedDict) because readers pick columns by name from lists of names
# (``VIEW_COLUMNS``, ``TREE_COLUMNS``); which keys a record holds is fixed per read:
#   * a whole span (``trace(columns="all")``, ``span``, ``trace_spans``): ``SPAN_RECORD_COLUMNS``
#     (its origin as ``resource_json`` and ``scope_json``, not ``origin_id``);
#   * a tree node (``trace(columns="tree")``): ``TREE_COLUMNS``;
#   * a span search hit: ``SPAN_HIT_COLUMNS``; skeleton rows: ``model.skeleton.COLUMNS``.
# Ids are bytes, times int nanoseconds, JSON columns text, view columns as ``SPAN_SCHEMA``.
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
# A whole span: every stored column but the store's own bookkeeping.
SPAN_RECORD_COLUMNS = (
    *(name for name in SPAN_COLUMNS if name != "origin_id"),
    "duration_ns",
    "project",
    "resource_json",
    "scope_json",
)
SPAN_HIT_COLUMNS = (
    "trace_id",
    *SPAN_HEAD_COLUMNS,
    "duration_ns",
    "status_code",
    "status_message",
    *VIEW_COLUMNS,
    "attributes_json",
)
Row = TypeVar("Row")


@dataclass(frozen=True)
class SearchRequest:
    """One page of a trace or span search. ``after`` is the ``next_after`` of the previous page
    of the same search (same sort and order; it holds that search's snapshot). ``as_of`` fixes
    the snapshot explicitly (None: the token's, or on a first page the newest data)."""

    filters: Filters
    sort: str = "start_time"  # start_time | duration | tokens | cost
    descending: bool = True
    limit: int = 50
    after: PageToken | None = None
    as_of: int | None = None
    count_cap: int = 10_000


@dataclass(frozen=True)
class SearchPage(Generic[Row]):
    rows: list[Row]
    # The position after the last row when there is a further page, else None.
    next_after: PageToken | None
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


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One session: the traces that reported its id, aggregated from their summaries."""

    session_id: str
    first_seen_ns: int
    last_seen_ns: int
    trace_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None
    # Traces of the session with at least one error span.
    error_count: int
    user_id: str | None


@dataclass(frozen=True, slots=True)
class SessionPage:
    rows: list[SessionRow]
    # The position after the last session of this page; None when there is no further page.
    next_after: PageToken | None


@dataclass(frozen=True, slots=True)
class StatsRow:
    """Aggregates of one (bucket, group): of spans (``stats``) or of traces (``trace_stats``)."""

    bucket_start_ns: int
    group: str | None
    count: int
    error_count: int
    # Duration quantiles (continuous: interpolated between the closest ranks).
    p50_ns: float
    p95_ns: float
    p99_ns: float
    input_tokens: int
    output_tokens: int
    cost: float | None


@dataclass(frozen=True, slots=True)
class SpanKey:
    """What identifies a stored span in every store."""

    project: str
    trace_id: bytes
    span_id: bytes


@dataclass(frozen=True, slots=True)
class RawSpan:
    """A stored span's key and the raw values its normalized view is derived from (reindex)."""

    key: SpanKey
    name: str
    status_code: int
    status_message: str | None
    attributes_json: str
    events_json: str
    start_ns: int
