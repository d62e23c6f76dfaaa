"""Response models, for the OpenAPI schema. Handlers build plain dicts and serialize them with
orjson (FastAPI's encoder is too slow for 50k-span trees); these models document the shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tracepond.projects import PROJECT_NAME_PATTERN


class ErrorDetail(BaseModel):
    status: int = Field(examples=[404])
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["trace 5b8efff798038103d269b633813fc60c not found"])


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Status(BaseModel):
    code: str = Field(description="unset, ok or error")
    message: str


CostSource = Literal["sent", "computed"]


class SpanView(BaseModel):
    """The span's normalized view (docs/conventions.md); only its cost fields are listed here."""

    model_config = ConfigDict(extra="allow")
    cost: float | None = Field(description="USD; null: not sent and not computable")
    cost_source: CostSource | None = Field(
        description="sent: by the producer; computed: from token counts and a price entry"
    )
    cost_price: str | None = Field(
        description="The price entry a computed cost used, e.g. genai-prices:openai/gpt-4o-mini"
        " or override:<pattern> (docs/cost.md)",
        examples=["genai-prices:openai/gpt-4o-mini"],
    )


class SpanNode(BaseModel):
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str = Field(description="unspecified, internal, server, client, producer, consumer")
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    status: Status
    attributes: dict[str, Any] = Field(description="Raw attributes as sent")
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    truncated_attributes: list[str] = Field(description="Keys whose values were cut at the limit")
    orphan: bool = Field(description="Its parent span never arrived: shown as an extra root")
    cycle: bool = Field(description="Its parent chain loops: made a root to break the loop")
    view: SpanView
    children: list[SpanNode]


class Span(BaseModel):
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
    attributes: dict[str, Any]
    events: list[dict[str, Any]]
    links: list[dict[str, Any]]
    truncated_attributes: list[str]
    trace_state: str
    flags: int
    resource: dict[str, Any]
    scope: dict[str, Any]
    dropped_attributes_count: int
    dropped_events_count: int
    dropped_links_count: int
    view: SpanView


class TraceSummary(BaseModel):
    trace_id: str
    root_span_id: str | None = Field(description="null while the root span has not arrived")
    root_name: str
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    span_count: int
    error_count: int


class TraceTree(BaseModel):
    trace_id: str
    summary: TraceSummary
    roots: list[SpanNode]


class TraceList(BaseModel):
    traces: list[TraceSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")


# -- search, sessions, stats, skeletons (docs/query.md) ----------------------------------------


class TraceSummaryFull(TraceSummary):
    """A trace summary with its totals (tokens and cost over leaf LLM calls)."""

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


class ListedTrace(TraceSummaryFull):
    """A trace as search lists it: what its root span was asked and answered, and its tags."""

    input_preview: str | None = Field(
        description="The root span's input (else its last user message): first non-blank line,"
        " at most 200 characters; null when it has none"
    )
    output_preview: str | None = Field(
        description="The root span's output (else its last output message), likewise"
    )
    tags: list[str] = Field(description="The root span's tags")


class TraceSearch(BaseModel):
    traces: list[ListedTrace]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end")
    count: int = Field(description="Traces matching the search (all pages), at most 10,000")
    count_capped: bool = Field(description="More than `count` traces match")


class SpanHit(BaseModel):
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
    category: str | None
    model: str | None
    provider: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost: float | None
    cost_source: CostSource | None
    cost_price: str | None
    session_id: str | None
    user_id: str | None
    document_count: int | None
    tool_name: str | None
    error_type: str | None
    attributes: dict[str, Any] = Field(description="Raw attributes as sent")


class SpanSearch(BaseModel):
    spans: list[SpanHit]
    next_cursor: str | None
    count: int = Field(description="Spans matching the search (all pages), at most 10,000")
    count_capped: bool


class SessionRow(BaseModel):
    session_id: str
    first_seen_ns: int
    last_seen_ns: int
    trace_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None
    error_count: int = Field(description="Traces of the session with at least one error")
    user_id: str | None


class SessionList(BaseModel):
    sessions: list[SessionRow]
    next_cursor: str | None


class SessionTurn(TraceSummaryFull):
    input: Any = Field(description="The trace's first input (root input, else first LLM input)")
    output: Any = Field(description="The trace's last output (root output, else last LLM output)")


class SessionDetail(BaseModel):
    session_id: str
    traces: list[SessionTurn] = Field(description="In start order: the conversation")
    truncated: bool = Field(description="Only the first 500 traces are listed")


class StatsRow(BaseModel):
    bucket_start_ns: int
    group: str | None = Field(description="The group's value (null without group_by)")
    count: int = Field(description="Spans, or at level=trace traces")
    error_count: int = Field(description="Error spans, or at level=trace traces with one")
    error_rate: float = Field(description="error_count / count")
    p50_ns: float = Field(description="Median span (level=trace: trace) duration")
    p95_ns: float
    p99_ns: float
    input_tokens: int = Field(description="level=trace: leaf LLM calls only (each call once)")
    output_tokens: int
    cost: float | None = Field(description="null: no cost reported")


class Stats(BaseModel):
    since_ns: int
    until_ns: int
    bucket_ns: int | None
    group_by: str | None
    level: Literal["span", "trace"] = Field(description="What the rows count")
    rows: list[StatsRow] = Field(description="By bucket, then group; only non-empty buckets")


class SubtreeTotals(BaseModel):
    span_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float | None


class SkeletonNode(BaseModel):
    span_id: str
    parent_span_id: str | None
    depth: int
    name: str
    kind: str
    service_name: str
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    status: str = Field(description="unset, ok or error")
    category: str | None
    model: str | None
    orphan: bool
    cycle: bool
    child_count: int
    subtree: SubtreeTotals


class Skeleton(BaseModel):
    trace_id: str
    summary: TraceSummaryFull
    total: int = Field(description="Nodes selected (all pages)")
    nodes: list[SkeletonNode] = Field(description="Depth-first order")
    next_cursor: str | None


class CompactColumns(BaseModel):
    """One array per field, each with one entry per node, in depth-first order."""

    span_id: list[str]
    depth: list[int] = Field(description="A node's parent: the last node before it one level up")
    name: list[str]
    start: list[int] = Field(description="Nanoseconds after origin_ns")
    duration: list[int] = Field(description="Nanoseconds")
    status: list[int] = Field(description="Index into strings: unset, ok or error")
    kind: list[int] = Field(description="Index into strings")
    service: list[int] = Field(description="Index into strings")
    category: list[int | None] = Field(description="Index into strings")
    model: list[int | None] = Field(description="Index into strings")
    flags: list[int] = Field(description="1: orphan (its parent never arrived), 2: cycle")
    child_count: list[int]
    span_count: list[int] = Field(description="Spans in the subtree")
    error_count: list[int] = Field(description="Error spans in the subtree")
    total_tokens: list[int] = Field(description="Tokens of the subtree, each model call once")
    cost: list[float | None] = Field(description="Cost of the subtree; null: none reported")


class CompactSkeleton(BaseModel):
    trace_id: str
    summary: TraceSummaryFull
    total: int = Field(description="Nodes selected (all pages)")
    next_cursor: str | None
    origin_ns: int = Field(description="The trace's start: times are nanoseconds after it")
    strings: list[str] = Field(description="The values of status, kind, service, category, model")
    columns: CompactColumns


class QueryErrorDetail(ErrorDetail):
    position: int | None = Field(default=None, description="Query syntax errors: 0-based offset")
    expected: str | None = Field(default=None, description="Query syntax errors: what fits there")


class QueryErrorResponse(BaseModel):
    error: QueryErrorDetail


class ProjectInfo(BaseModel):
    name: str = Field(examples=["team-a"])
    created_ns: int
    description: str | None
    retention_ns: int | None = Field(
        description="null: the server-wide retention applies; 0: kept forever"
    )
    span_count: int
    trace_count: int


class ProjectList(BaseModel):
    projects: list[ProjectInfo]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=f"^{PROJECT_NAME_PATTERN}$", examples=["team-a"])
    description: str | None = Field(default=None, max_length=1000)
    retention: str | None = Field(
        default=None,
        max_length=64,
        description="keep traces this long (30d, 12h); forever; null: the server's retention",
    )


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retention: str | None = Field(
        max_length=64,
        description="keep its traces this long (30d, 12h); forever; null or default: the"
        " server's retention",
    )
