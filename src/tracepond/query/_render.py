"""Stored span records -> API shapes (hex ids, parsed JSON, named enums)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from tracepond.conventions import normalize_fields, view_from_json
from tracepond.errors import InvalidRequest
from tracepond.model.records import SessionRow, SpanRecord, StatsRow, TraceSummary
from tracepond.projects import Project

SPAN_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
STATUS_CODES = ("unset", "ok", "error")


def span_node(record: SpanRecord) -> dict[str, Any]:
    """The node of one span in a trace tree (``children`` is added by the tree builder)."""
    parent = record["parent_span_id"]
    attributes = orjson.loads(record["attributes_json"])
    events = orjson.loads(record["events_json"])
    return {
        "span_id": record["span_id"].hex(),
        "parent_span_id": parent.hex() if parent is not None else None,
        "name": record["name"],
        "kind": _enum(SPAN_KINDS, record["kind"]),
        "service_name": record["service_name"],
        "start_time_unix_nano": record["start_ns"],
        "end_time_unix_nano": record["end_ns"],
        "duration_ns": record["duration_ns"],
        "status": {
            "code": _enum(STATUS_CODES, record["status_code"]),
            "message": record["status_message"] or "",
        },
        "attributes": attributes,
        "events": events,
        "links": orjson.loads(record["links_json"]),
        "truncated_attributes": _json_or(record["truncated_json"], []),
        "view": _view(record, attributes, events),
    }


def _view(record: SpanRecord, attributes: dict[str, Any], events: list[Any]) -> dict[str, Any]:
    stored = record.get("view_json")
    if stored is not None:
        return view_from_json(stored, record, attributes)
    # Stored before views were (or with normalization deferred, or a view that JSON cannot
    # hold): derived from the raw attributes by the same function ingest uses.
    view: dict[str, Any] = normalize_fields(
        record["name"],
        record["status_code"],
        record["status_message"] or "",
        attributes,
        events,
    ).to_dict()
    if record.get("cost_source") is not None:
        # A computed cost needs the span's start time and the server's prices: the columns
        # hold it (a view too large to store is still priced at ingest).
        for name in _COST_FIELDS:
            view[name] = record[name]
    return view


_COST_FIELDS = ("cost", "cost_source", "cost_price")


def span_detail(record: SpanRecord) -> dict[str, Any]:
    """Everything stored for one span."""
    detail = span_node(record)
    detail["trace_id"] = record["trace_id"].hex()
    detail.update(
        {
            "trace_state": record["trace_state"] or "",
            "flags": record["flags"],
            "resource": _json_or(record["resource_json"], {}),
            "scope": {
                "name": record["scope_name"] or "",
                "version": record["scope_version"] or "",
                **_json_or(record["scope_json"], {}),
            },
            "dropped_attributes_count": record["dropped_attributes_count"],
            "dropped_events_count": record["dropped_events_count"],
            "dropped_links_count": record["dropped_links_count"],
        }
    )
    return detail


def trace_summary(summary: TraceSummary) -> dict[str, Any]:
    return {
        "trace_id": summary.trace_id.hex(),
        "root_span_id": summary.root_span_id.hex() if summary.root_span_id else None,
        "root_name": summary.root_name,
        "service_name": summary.service_name,
        "start_time_unix_nano": summary.start_ns,
        "end_time_unix_nano": summary.end_ns,
        "duration_ns": summary.end_ns - summary.start_ns,
        "span_count": summary.span_count,
        "error_count": summary.error_count,
        "input_tokens": summary.input_tokens,
        "output_tokens": summary.output_tokens,
        "total_tokens": summary.total_tokens,
        "cost": summary.cost,
        "models": summary.models,
        "session_id": summary.session_id,
        "user_id": summary.user_id,
        "llm_count": summary.llm_count,
        "tool_count": summary.tool_count,
        "retriever_count": summary.retriever_count,
    }


def listed_trace(summary: TraceSummary) -> dict[str, Any]:
    """A trace as search lists it: its summary, what its root was asked and answered (first
    line, bounded) and the root's tags."""
    return {
        **trace_summary(summary),
        "input_preview": summary.input_preview,
        "output_preview": summary.output_preview,
        "tags": list(summary.tags),
    }


def session(row: SessionRow) -> dict[str, Any]:
    return asdict(row)


def stats_row(row: StatsRow) -> dict[str, Any]:
    """A stats row with its error rate (errors per span, or per trace at trace level)."""
    return {**asdict(row), "error_rate": row.error_count / row.count if row.count else 0.0}


def parse_hex_id(text: str, size: int, what: str) -> bytes:
    """A lowercase/uppercase hex id of ``size`` bytes, or InvalidRequest saying what is wrong."""
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise InvalidRequest(f"{what} must be {size * 2} hex characters, got {text!r}")
    return raw


def _enum(names: tuple[str, ...], value: int) -> str:
    return names[value] if 0 <= value < len(names) else str(value)


def _json_or(text: str | None, default: Any) -> Any:
    return orjson.loads(text) if text else default


def project(found: Project) -> dict[str, Any]:
    return {
        "name": found.name,
        "created_ns": found.created_ns,
        "description": found.description,
        "retention_ns": found.retention_ns,
        "span_count": found.span_count,
        "trace_count": found.trace_count,
    }
