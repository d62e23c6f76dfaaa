"""Response models, for the OpenAPI schema. Handlers build plain dicts and serialize them with
orjson (FastAPI's encoder is too slow for 50k-span trees); these models document the shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    status: int = Field(examples=[404])
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["trace 5b8efff798038103d269b633813fc60c not found"])


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Status(BaseModel):
    code: str = Field(description="unset, ok or error")
    message: str


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
