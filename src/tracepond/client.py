"""A Python client for tracepond's search API: find the trace that went wrong from a notebook.

    import tracepond

    client = tracepond.Client("http://127.0.0.1:4318")
    page = client.search_traces('{ category = "retriever" && documents.count = 0 }', since="1h")
    for trace in page.traces:                   # the API's name (``page.items`` too)
        print(trace.trace_id, trace.root_name, trace.duration_ns)
    df = page.to_pandas()                       # needs pandas (or .to_polars(): polars)
    for span in client.iter_spans(status="error", since="24h"):   # every page, via the cursor
        print(span.view["output_messages"])    # normalized messages, documents, tool call...
    rows = client.trace_data(page.traces)       # each trace with its root input and output

Standard library only (``urllib.request``): it works with the SDK-only install and imports no
server code. Every API error is raised as :class:`APIError` with the server's status, code and
message (and ``position``/``expected`` for query syntax errors). Parameters are those of the HTTP
API (docs/query.md); times accept unix nanoseconds, ISO-8601, ``datetime``, ``timedelta`` (that
long ago) or ``"1h"``; durations accept nanoseconds, ``"500ms"`` or ``timedelta``.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypedDict, TypeVar, Unpack

__all__ = [
    "APIError",
    "Client",
    "Page",
    "SearchFilters",
    "Session",
    "SessionDetail",
    "SessionPage",
    "SessionTurn",
    "Skeleton",
    "SkeletonNode",
    "SpanHit",
    "SpanNode",
    "SpanPage",
    "Stats",
    "StatsRow",
    "Status",
    "SubtreeTotals",
    "TraceData",
    "TracePage",
    "TraceSummary",
    "TraceTree",
]

Time = int | str | datetime | timedelta
Duration = int | str | timedelta
Sort = Literal["start_time", "duration", "tokens", "cost"]
Order = Literal["desc", "asc"]
GroupBy = Literal["model", "service", "name", "category"]
Level = Literal["span", "trace"]
_MAX_PAGE = 1000
# Requests in flight at once while fetching the views of a page's spans or traces.
_FETCH_THREADS = 4


class APIError(Exception):
    """An error answered by the API (``status`` is its HTTP status), or ``status=0`` with
    ``code="connection_failed"`` when the server could not be reached."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        position: int | None = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.position = position
        self.expected = expected


class SearchFilters(TypedDict, total=False):
    """The filters of ``/api/traces``, ``/api/spans`` and ``/api/stats``; all combine with AND."""

    since: Time
    until: Time
    service: str
    status: Literal["error", "ok"]
    name: str
    category: str
    model: str
    min_duration: Duration
    max_duration: Duration
    min_tokens: int
    max_tokens: int
    min_cost: float
    max_cost: float
    min_documents: int
    max_documents: int
    session_id: str
    user_id: str
    tag: str
    attr: str | Sequence[str]


# -- result types ---------------------------------------------------------------------------


def _build(cls: Any, data: Mapping[str, Any], **nested: Any) -> Any:
    """``cls`` from the keys of ``data`` it knows (newer servers may send more)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names}, **nested)


@dataclass(frozen=True)
class Status:
    code: str  # unset, ok or error
    message: str


@dataclass(frozen=True)
class TraceSummary:
    """One trace: its root, time, size, errors; tokens and cost over its leaf LLM calls."""

    trace_id: str
    root_span_id: str | None
    root_name: str
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    span_count: int
    error_count: int
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    models: list[str] = field(default_factory=list)
    session_id: str | None = None
    user_id: str | None = None
    llm_count: int = 0
    tool_count: int = 0
    retriever_count: int = 0
    # Search results only: the root's input and output (first line, bounded) and its tags.
    input_preview: str | None = None
    output_preview: str | None = None
    tags: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TraceSummary:
        return _build(cls, data)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SpanHit:
    """A span found by :meth:`Client.search_spans`, with its normalized fields."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    status: Status
    category: str | None = None
    model: str | None = None
    provider: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cost: float | None = None
    session_id: str | None = None
    user_id: str | None = None
    document_count: int | None = None
    tool_name: str | None = None
    error_type: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    # The normalized view (messages, documents, tool call, usage...: the API's ``view``), which
    # the client fetches for search results unless asked not to (``views=False``).
    view: dict[str, Any] | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpanHit:
        return _build(cls, {**data, "status": Status(**data["status"])})  # type: ignore[no-any-return]


@dataclass(frozen=True)
class SpanNode:
    """A span of a trace tree, with everything stored for it and its children."""

    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    status: Status
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    truncated_attributes: list[str]
    orphan: bool
    cycle: bool
    children: list[SpanNode]
    view: dict[str, Any] | None = None  # the normalized view (messages, documents, tool...)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpanNode:
        return _build(  # type: ignore[no-any-return]
            cls,
            {
                **data,
                "status": Status(**data["status"]),
                "children": [SpanNode.from_json(c) for c in data["children"]],
            },
        )


@dataclass(frozen=True)
class TraceTree:
    trace_id: str
    summary: TraceSummary
    roots: list[SpanNode]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TraceTree:
        return cls(
            data["trace_id"],
            TraceSummary.from_json(data["summary"]),
            [SpanNode.from_json(r) for r in data["roots"]],
        )

    def walk(self) -> Iterator[tuple[int, SpanNode]]:
        """(depth, span), depth-first in the tree's order."""
        stack = [(0, r) for r in reversed(self.roots)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, c) for c in reversed(node.children))


@dataclass(frozen=True)
class SubtreeTotals:
    span_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None


@dataclass(frozen=True)
class SkeletonNode:
    """A span without payload, with its depth, child count and subtree totals."""

    span_id: str
    parent_span_id: str | None
    depth: int
    name: str
    kind: str
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    status: str
    category: str | None
    model: str | None
    orphan: bool
    cycle: bool
    child_count: int
    subtree: SubtreeTotals

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SkeletonNode:
        subtree = _build(SubtreeTotals, data["subtree"])
        return _build(cls, {**data, "subtree": subtree})  # type: ignore[no-any-return]


@dataclass(frozen=True)
class StatsRow:
    """One (bucket, group) of :meth:`Client.stats`: ``count`` and ``error_count`` are spans, or
    with ``level="trace"`` traces and traces with an error span; the quantiles are span (trace)
    durations; at trace level tokens and cost count each LLM call once."""

    bucket_start_ns: int
    group: str | None
    count: int
    error_count: int
    error_rate: float
    p50_ns: float
    p95_ns: float
    p99_ns: float
    input_tokens: int
    output_tokens: int
    cost: float | None


@dataclass(frozen=True)
class Session:
    session_id: str
    first_seen_ns: int
    last_seen_ns: int
    trace_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None
    error_count: int
    user_id: str | None


@dataclass(frozen=True)
class SessionTurn:
    """One trace of a session, with its first input and last output."""

    trace: TraceSummary
    input: Any
    output: Any


@dataclass(frozen=True)
class TraceData:
    """A trace as a dataset row: its summary, its root span's input and output, the root's
    metadata and tags and, when asked for, every span's normalized view (``spans``)."""

    trace: TraceSummary
    input: Any
    output: Any
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None
    spans: list[dict[str, Any]] | None = None

    def record(self) -> dict[str, Any]:
        """The summary's fields, then ``input``, ``output``, ``metadata``, ``tags`` (and
        ``spans``): one line of a JSON Lines dataset."""
        return _record(self)


# The view fields a span row carries as columns (usage and the scalar ones are columns already).
_VIEW_COLUMNS = (
    "input",
    "output",
    "input_messages",
    "output_messages",
    "documents",
    "tool",
    "invocation_parameters",
    "metadata",
    "tags",
    "error",
)
# DataFrame columns: unix nanoseconds -> UTC timestamps, nanoseconds -> durations.
_TIME_COLUMNS = {
    "start_time_unix_nano": "start_time",
    "end_time_unix_nano": "end_time",
    "first_seen_ns": "first_seen",
    "last_seen_ns": "last_seen",
    "bucket_start_ns": "bucket_start",
}
_DURATION_COLUMNS = {"duration_ns": "duration", "p50_ns": "p50", "p95_ns": "p95", "p99_ns": "p99"}


# -- tables: typed items, and DataFrames when pandas or polars is installed ------------------

T = TypeVar("T")


class _Table(Generic[T]):
    """Rows as dataclasses, convertible to a pandas or polars DataFrame (one row per item)."""

    def _items(self) -> Sequence[T]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[T]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def records(self) -> list[dict[str, Any]]:
        """The rows as plain dicts (nested values as dicts, as the API sends them)."""
        return [_record(item) for item in self._items()]

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame``; nested values (attributes, status, messages) stay dicts and
        lists. Times are UTC timestamps (``start_time``, ``end_time``, ``first_seen``,
        ``bucket_start``: ``datetime64[ns, UTC]``) and durations timedeltas (``duration``,
        ``p50``...: ``timedelta64[ns]``) in place of the API's nanosecond integers."""
        try:
            pandas = importlib.import_module("pandas")
        except ImportError as exc:
            raise ImportError(
                "to_pandas() needs pandas, which is not installed: pip install pandas"
            ) from exc
        frame = pandas.DataFrame.from_records(self.records(), columns=self._columns())
        for column in _TIME_COLUMNS:
            if column in frame.columns:
                frame[column] = pandas.to_datetime(frame[column], unit="ns", utc=True)
        for column in _DURATION_COLUMNS:
            if column in frame.columns:
                frame[column] = pandas.to_timedelta(frame[column], unit="ns")
        return frame.rename(columns={**_TIME_COLUMNS, **_DURATION_COLUMNS})

    def to_polars(self) -> Any:
        """A ``polars.DataFrame``; nested dict values (attributes, status) become JSON text.
        Times and durations as in :meth:`to_pandas` (``Datetime("ns", "UTC")``, ``Duration``)."""
        try:
            polars = importlib.import_module("polars")
        except ImportError as exc:
            raise ImportError(
                "to_polars() needs polars, which is not installed: pip install polars"
            ) from exc
        rows = [flat_record(r) for r in self.records()]
        if not rows:
            return polars.DataFrame()
        frame = polars.DataFrame(rows, infer_schema_length=None)
        converted = [
            polars.col(c).cast(polars.Int64).cast(polars.Datetime("ns", "UTC")).alias(name)
            for c, name in _TIME_COLUMNS.items()
            if c in frame.columns
        ] + [
            polars.col(c).cast(polars.Int64).cast(polars.Duration("ns")).alias(name)
            for c, name in _DURATION_COLUMNS.items()
            if c in frame.columns
        ]
        renamed = {**_TIME_COLUMNS, **_DURATION_COLUMNS}
        dropped = [c for c in frame.columns if c in renamed]
        return (
            frame.with_columns(converted)
            .drop(dropped)
            .select([renamed.get(c, c) for c in frame.columns])
        )

    def _columns(self) -> list[str]:
        items = self._items()
        if items:
            return list(_record(items[0]))
        return []


def _record(item: Any) -> dict[str, Any]:
    if isinstance(item, SessionTurn):
        return {**dataclasses.asdict(item.trace), "input": item.input, "output": item.output}
    if isinstance(item, TraceData):
        record = {**dataclasses.asdict(item.trace), "input": item.input, "output": item.output}
        record.update(metadata=item.metadata, tags=item.tags)
        if item.spans is not None:
            record["spans"] = item.spans
        return record
    if isinstance(item, SpanHit):
        return _span_record(item)
    return dataclasses.asdict(item)


def _span_record(hit: SpanHit) -> dict[str, Any]:
    """A span hit as a row: its fields, then its view's messages, documents, tool call...
    as columns (without a view, only the fields: the API's span hit as it is)."""
    record = dataclasses.asdict(hit)
    view = record.pop("view")
    if view is not None:
        record.update({name: view.get(name) for name in _VIEW_COLUMNS})
    return record


# Columns of any JSON value (not one type), kept as JSON text in columnar formats.
_JSON_COLUMNS = frozenset({"input", "output", *_VIEW_COLUMNS, "spans"})


def flat_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record for columnar formats: dict values (attributes, status, subtree) as JSON text,
    and the columns that hold any JSON (``input``/``output``, a span's messages, documents,
    tool call...) as JSON text."""
    return {
        k: json.dumps(v, sort_keys=True) if isinstance(v, dict) or k in _JSON_COLUMNS else v
        for k, v in record.items()
    }


class Page(_Table[T]):
    """One page of results; ``next_cursor`` is None on the last page. ``count`` is the number of
    matches over all pages, at most 10,000 (``count_capped`` beyond); None for sessions.

    The rows are under the API's name (:class:`TracePage` ``.traces``, :class:`SpanPage`
    ``.spans``, :class:`SessionPage` ``.sessions``); ``.items`` is the same list, whatever
    the page holds."""

    next_cursor: str | None
    count: int | None
    count_capped: bool

    @property
    def items(self) -> list[T]:
        raise NotImplementedError

    def _items(self) -> Sequence[T]:
        return self.items


@dataclass(frozen=True)
class TracePage(Page[TraceSummary]):
    traces: list[TraceSummary]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool = False

    @property
    def items(self) -> list[TraceSummary]:
        return self.traces


@dataclass(frozen=True)
class SpanPage(Page[SpanHit]):
    spans: list[SpanHit]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool = False

    @property
    def items(self) -> list[SpanHit]:
        return self.spans


@dataclass(frozen=True)
class SessionPage(Page[Session]):
    sessions: list[Session]
    next_cursor: str | None
    count: int | None = None
    count_capped: bool = False

    @property
    def items(self) -> list[Session]:
        return self.sessions


@dataclass(frozen=True)
class Stats(_Table[StatsRow]):
    since_ns: int
    until_ns: int
    bucket_ns: int | None
    group_by: str | None
    rows: list[StatsRow]
    level: str = "span"  # what the rows count: spans or traces

    def _items(self) -> Sequence[StatsRow]:
        return self.rows


@dataclass(frozen=True)
class Skeleton(_Table[SkeletonNode]):
    """A trace's spans without payload, depth-first; ``total`` nodes over all pages."""

    trace_id: str
    summary: TraceSummary
    total: int
    nodes: list[SkeletonNode]
    next_cursor: str | None

    def _items(self) -> Sequence[SkeletonNode]:
        return self.nodes


@dataclass(frozen=True)
class SessionDetail(_Table[SessionTurn]):
    """A session's traces in start order (the conversation); ``truncated`` past 500 traces."""

    session_id: str
    turns: list[SessionTurn]
    truncated: bool

    def _items(self) -> Sequence[SessionTurn]:
        return self.turns


# -- the client -----------------------------------------------------------------------------


class Client:
    """Reads a tracepond server over HTTP (its OTLP/HTTP + API port, 4318 by default).

    ``api_key`` (else ``TRACEPOND_API_KEY``) is sent as ``Authorization: Bearer <key>``;
    ``project`` (else ``TRACEPOND_PROJECT``; else the server's ``default``) is the ``project``
    parameter of every read. ``verify``: True checks an https server's certificate against the
    system's CAs, a path against that CA file (a private CA), False not at all."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:4318",
        timeout: float = 60.0,
        *,
        api_key: str | None = None,
        project: str | None = None,
        verify: bool | str | os.PathLike[str] = True,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._api_key = (api_key or os.environ.get("TRACEPOND_API_KEY", "")).strip() or None
        self.project = project or os.environ.get("TRACEPOND_PROJECT", "").strip() or None
        self._ssl = _ssl_context(verify)

    def __repr__(self) -> str:  # never the key
        project = f", project={self.project!r}" if self.project else ""
        return f"Client({self.url!r}{project})"

    # -- search

    def search_traces(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        sort: Sort = "start_time",
        order: Order = "desc",
        limit: int = 50,
        cursor: str | None = None,
        **filters: Unpack[SearchFilters],
    ) -> TracePage:
        """One page of traces; ``q`` is the query language (docs/query.md), ``text`` full
        text. Pass ``page.next_cursor`` as ``cursor`` for the next page."""
        body = self.get("/api/traces", **_search(q, text, sort, order, limit, cursor, filters))
        traces = [TraceSummary.from_json(t) for t in body["traces"]]
        return TracePage(traces, body["next_cursor"], body["count"], body["count_capped"])

    def search_spans(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        sort: Sort = "start_time",
        order: Order = "desc",
        limit: int = 50,
        cursor: str | None = None,
        views: bool = True,
        **filters: Unpack[SearchFilters],
    ) -> SpanPage:
        """One page of spans (each with its trace id), filtered at span level.

        Each span comes with its normalized ``view`` (messages, documents, tool call: columns
        of its DataFrame row), fetched with one more request per trace of the page;
        ``views=False`` skips them (the raw ``attributes`` are always there)."""
        body = self.get("/api/spans", **_search(q, text, sort, order, limit, cursor, filters))
        spans = [SpanHit.from_json(s) for s in body["spans"]]
        if views:
            spans = self._with_views(spans)
        return SpanPage(spans, body["next_cursor"], body["count"], body["count_capped"])

    def iter_traces(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        sort: Sort = "start_time",
        order: Order = "desc",
        page_size: int = _MAX_PAGE,
        **filters: Unpack[SearchFilters],
    ) -> Iterator[TraceSummary]:
        """Every matching trace, page after page (a snapshot: see docs/query.md)."""
        for page in self.trace_pages(
            q, text=text, sort=sort, order=order, page_size=page_size, **filters
        ):
            yield from page.traces

    def iter_spans(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        sort: Sort = "start_time",
        order: Order = "desc",
        page_size: int = _MAX_PAGE,
        views: bool = True,
        **filters: Unpack[SearchFilters],
    ) -> Iterator[SpanHit]:
        """Every matching span, page after page (``views`` as in :meth:`search_spans`)."""
        for page in self.span_pages(
            q, text=text, sort=sort, order=order, page_size=page_size, views=views, **filters
        ):
            yield from page.spans

    def trace_pages(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        sort: Sort = "start_time",
        order: Order = "desc",
        page_size: int = _MAX_PAGE,
        **filters: Unpack[SearchFilters],
    ) -> Iterator[TracePage]:
        """The pages of a trace search, following ``next_cursor`` to the end."""
        cursor: str | None = None
        while True:
            page = self.search_traces(
                q, text=text, sort=sort, order=order, limit=page_size, cursor=cursor, **filters
            )
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def span_pages(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        sort: Sort = "start_time",
        order: Order = "desc",
        page_size: int = _MAX_PAGE,
        views: bool = True,
        **filters: Unpack[SearchFilters],
    ) -> Iterator[SpanPage]:
        """The pages of a span search, following ``next_cursor`` to the end."""
        cursor: str | None = None
        while True:
            page = self.search_spans(
                q,
                text=text,
                sort=sort,
                order=order,
                limit=page_size,
                cursor=cursor,
                views=views,
                **filters,
            )
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # -- traces

    def trace(self, trace_id: str) -> TraceTree:
        """The whole trace as a tree, every span with its payload."""
        return TraceTree.from_json(self.get(f"/api/traces/{_segment(trace_id)}"))

    def skeleton(
        self,
        trace_id: str,
        *,
        parent: str | None = None,
        max_depth: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Skeleton:
        """A trace's spans without payload, depth-first, with subtree totals; ``parent`` (a span
        id or ``"root"``) lists one level, paged by ``limit``/``cursor``."""
        body = self.get(
            f"/api/traces/{_segment(trace_id)}/skeleton",
            parent=parent,
            max_depth=max_depth,
            limit=limit,
            cursor=cursor,
        )
        return Skeleton(
            body["trace_id"],
            TraceSummary.from_json(body["summary"]),
            body["total"],
            [SkeletonNode.from_json(n) for n in body["nodes"]],
            body["next_cursor"],
        )

    def span_view(self, trace_id: str, span_id: str) -> dict[str, Any]:
        """One span's normalized view (messages, documents, tool call, usage, cost...)."""
        span = self.get(f"/api/traces/{_segment(trace_id)}/spans/{_segment(span_id)}")
        view: dict[str, Any] = span["view"]
        return view

    def trace_data(
        self, traces: Sequence[TraceSummary | str], *, spans: bool = False
    ) -> list[TraceData]:
        """Each trace as a dataset row: its root span's input and output (the view's
        ``input``/``output``, else its messages), metadata and tags; with ``spans=True`` also
        every span's normalized view, depth-first. One request per trace (a few at a time)."""
        summaries = [t if isinstance(t, TraceSummary) else self.trace(t).summary for t in traces]
        with ThreadPoolExecutor(_FETCH_THREADS) as pool:
            return list(pool.map(lambda t: self._trace_data(t, spans), summaries))

    def iter_trace_data(
        self,
        q: str | None = None,
        *,
        text: str | None = None,
        spans: bool = False,
        page_size: int = _MAX_PAGE,
        **filters: Unpack[SearchFilters],
    ) -> Iterator[TraceData]:
        """:meth:`trace_data` of every matching trace, page after page."""
        for page in self.trace_pages(q, text=text, page_size=page_size, **filters):
            yield from self.trace_data(page.traces, spans=spans)

    def _trace_data(self, summary: TraceSummary, spans: bool) -> TraceData:
        root: dict[str, Any] | None = None
        rows: list[dict[str, Any]] | None = None
        if spans:
            tree = self.trace(summary.trace_id)
            rows = [_span_row(depth, node) for depth, node in tree.walk()]
            root = next((n.view for n in tree.roots if n.span_id == summary.root_span_id), None)
        elif summary.root_span_id is not None:
            root = self.span_view(summary.trace_id, summary.root_span_id)
        root = root or {}
        return TraceData(
            summary,
            _first_present(root, "input", "input_messages"),
            _first_present(root, "output", "output_messages"),
            root.get("metadata"),
            root.get("tags"),
            rows,
        )

    def _with_views(self, hits: list[SpanHit]) -> list[SpanHit]:
        """The hits with their views: a trace with several hits in one request (its tree),
        a lone hit with its span's."""
        by_trace: dict[str, list[SpanHit]] = {}
        for hit in hits:
            by_trace.setdefault(hit.trace_id, []).append(hit)

        def views_of(trace_id: str) -> dict[str, dict[str, Any] | None]:
            wanted = by_trace[trace_id]
            if len(wanted) == 1:
                return {wanted[0].span_id: self.span_view(trace_id, wanted[0].span_id)}
            return {node.span_id: node.view for _, node in self.trace(trace_id).walk()}

        with ThreadPoolExecutor(_FETCH_THREADS) as pool:
            found: dict[str, dict[str, Any] | None] = {}
            for views in pool.map(views_of, by_trace):
                found.update(views)
        return [dataclasses.replace(hit, view=found.get(hit.span_id)) for hit in hits]

    # -- sessions

    def sessions(
        self,
        *,
        since: Time | None = None,
        user_id: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> SessionPage:
        """One page of sessions, most recently active first."""
        body = self.get(
            "/api/sessions", since=_time(since), user_id=user_id, limit=limit, cursor=cursor
        )
        return SessionPage([_build(Session, s) for s in body["sessions"]], body["next_cursor"])

    def iter_sessions(
        self, *, since: Time | None = None, user_id: str | None = None, page_size: int = 1000
    ) -> Iterator[Session]:
        cursor: str | None = None
        while True:
            page = self.sessions(since=since, user_id=user_id, limit=page_size, cursor=cursor)
            yield from page.sessions
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def session(self, session_id: str) -> SessionDetail:
        """A session's traces in order, with each one's first input and last output."""
        body = self.get(f"/api/sessions/{_segment(session_id)}")
        turns = [
            SessionTurn(TraceSummary.from_json(t), t.get("input"), t.get("output"))
            for t in body["traces"]
        ]
        return SessionDetail(body["session_id"], turns, body["truncated"])

    # -- stats

    def stats(
        self,
        *,
        bucket: Duration | None = None,
        group_by: GroupBy | None = None,
        level: Level = "span",
        q: str | None = None,
        text: str | None = None,
        **filters: Unpack[SearchFilters],
    ) -> Stats:
        """Aggregates per time bucket and group over [since, until) (default: 24 h).

        ``level="span"`` aggregates the spans starting in the range (filters apply per span);
        ``level="trace"`` the traces starting in it (filters select traces as in
        :meth:`search_traces`; ``group_by`` model, service or name), so ``count`` is traces,
        ``error_count`` traces with an error span, the quantiles trace durations, and tokens
        and cost the traces' totals, each LLM call counted once."""
        params = _filters(filters)
        body = self.get(
            "/api/stats",
            bucket=_duration(bucket),
            group_by=group_by,
            level=level,
            q=q,
            text=text,
            **params,
        )
        return Stats(
            body["since_ns"],
            body["until_ns"],
            body["bucket_ns"],
            body["group_by"],
            [_build(StatsRow, r) for r in body["rows"]],
            body.get("level", "span"),
        )

    # -- raw access

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` with query parameters (None left out, lists repeated) and return the
        decoded JSON; raise :class:`APIError` on any error. Reads of the query API carry the
        client's project (the projects routes name theirs in the path)."""
        if self.project and _project_scoped(path) and params.get("project") is None:
            params = {**params, "project": self.project}
        query = urllib.parse.urlencode(
            [
                (k, _param(item))
                for k, v in params.items()
                if v is not None
                for item in (v if isinstance(v, list | tuple) else [v])
            ]
        )
        url = f"{self.url}{path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(
                request, timeout=self.timeout, context=self._ssl
            ) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _refused_key(_api_error(exc.code, exc.read()), self._api_key) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise APIError(0, "connection_failed", f"{self.url}: {reason}") from exc


def _project_scoped(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith("/api/projects")


def _first_present(view: Mapping[str, Any], *names: str) -> Any:
    return next((view[n] for n in names if view.get(n) is not None), None)


def _span_row(depth: int, node: SpanNode) -> dict[str, Any]:
    """One span of a trace's dataset row: where it is, what it was, and its normalized view."""
    return {
        "span_id": node.span_id,
        "parent_span_id": node.parent_span_id,
        "depth": depth,
        "name": node.name,
        "start_time_unix_nano": node.start_time_unix_nano,
        "duration_ns": node.duration_ns,
        "status": dataclasses.asdict(node.status),
        **(node.view or {}),
    }


def _api_error(status: int, body: bytes) -> APIError:
    try:
        error = json.loads(body)["error"]
        return APIError(
            int(error.get("status", status)),
            str(error.get("code", "error")),
            str(error.get("message", "")),
            error.get("position"),
            error.get("expected"),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return APIError(status, "http_error", body[:500].decode("utf-8", "replace"))


def _refused_key(error: APIError, api_key: str | None) -> APIError:
    """A 401 or 403 says in words that the key was refused, and what to check."""
    if error.status == 401:
        hint = (
            "the key is unknown, revoked or expired"
            if api_key
            else "the server needs one: pass api_key= or set TRACEPOND_API_KEY"
        )
    elif error.status == 403:
        hint = "the key may not read this (a read key of another project, or an ingest key?)"
    else:
        return error
    message = f"the server refused the API key: {error.message} ({hint})"
    return APIError(error.status, error.code, message, error.position, error.expected)


def _ssl_context(verify: bool | str | os.PathLike[str]) -> ssl.SSLContext:
    if verify is True:
        return ssl.create_default_context()
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=os.fspath(verify))


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _time(value: Time | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a datetime needs a timezone: {value!r}")
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{_timedelta_ns(value)}ns"
    return str(value)


def _duration(value: Duration | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return str(_timedelta_ns(value))
    return str(value)


def _timedelta_ns(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 10**9 + value.microseconds * 1000


def _filters(filters: SearchFilters) -> dict[str, Any]:
    params: dict[str, Any] = dict(filters)
    for key in ("since", "until"):
        if key in params:
            params[key] = _time(params[key])
    for key in ("min_duration", "max_duration"):
        if key in params:
            params[key] = _duration(params[key])
    if isinstance(params.get("attr"), str):
        params["attr"] = [params["attr"]]
    elif "attr" in params:
        params["attr"] = list(params["attr"])
    return params


def _search(
    q: str | None,
    text: str | None,
    sort: str,
    order: str,
    limit: int,
    cursor: str | None,
    filters: SearchFilters,
) -> dict[str, Any]:
    return {
        **_filters(filters),
        "q": q,
        "text": text,
        "sort": sort,
        "order": order,
        "limit": limit,
        "cursor": cursor,
    }
