"""Stored spans -> an OTLP/JSON ExportTraceServiceRequest that imports back unchanged.

Attribute values were stored as plain JSON (ingest/_anyvalue.py): bytes as {"bytesValue": b64},
NaN/Infinity as strings. The inverse mapping here restores the AnyValue spelling; ids are hex,
64-bit integers are strings (proto3 JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from tracepond.model.records import SpanRecord


def export_request(records: Sequence[SpanRecord]) -> dict[str, Any]:
    """Spans grouped by resource then scope, each group in first-seen order."""
    resources: dict[str, dict[tuple[Any, ...], list[dict[str, Any]]]] = {}
    for record in records:
        scope_key = (record["scope_name"], record["scope_version"], record["scope_json"])
        resources.setdefault(record["resource_json"] or "{}", {}).setdefault(scope_key, []).append(
            _span(record)
        )
    return {
        "resourceSpans": [
            _resource_spans(resource_json, scopes) for resource_json, scopes in resources.items()
        ]
    }


def _resource_spans(resource_json: str, scopes: dict[tuple[Any, ...], list[Any]]) -> dict[str, Any]:
    resource = orjson.loads(resource_json)
    out: dict[str, Any] = {
        "resource": {
            "attributes": key_values(resource.get("attributes", {})),
            "droppedAttributesCount": resource.get("dropped_attributes_count", 0),
        },
        "scopeSpans": [],
    }
    if resource.get("schema_url"):
        out["schemaUrl"] = resource["schema_url"]
    for (name, version, scope_json), spans in scopes.items():
        scope = orjson.loads(scope_json) if scope_json else {}
        entry: dict[str, Any] = {
            "scope": {
                "name": name or "",
                "version": version or "",
                "attributes": key_values(scope.get("attributes", {})),
                "droppedAttributesCount": scope.get("dropped_attributes_count", 0),
            },
            "spans": spans,
        }
        if scope.get("schema_url"):
            entry["schemaUrl"] = scope["schema_url"]
        out["scopeSpans"].append(entry)
    return out


def _span(record: SpanRecord) -> dict[str, Any]:
    parent = record["parent_span_id"]
    return {
        "traceId": record["trace_id"].hex(),
        "spanId": record["span_id"].hex(),
        "parentSpanId": parent.hex() if parent else "",
        "traceState": record["trace_state"] or "",
        "flags": record["flags"] or 0,
        "name": record["name"],
        "kind": record["kind"],
        "startTimeUnixNano": str(record["start_ns"]),
        "endTimeUnixNano": str(record["end_ns"]),
        "attributes": key_values(orjson.loads(record["attributes_json"])),
        "droppedAttributesCount": record["dropped_attributes_count"] or 0,
        "events": [_event(e) for e in orjson.loads(record["events_json"])],
        "droppedEventsCount": record["dropped_events_count"] or 0,
        "links": [_link(link) for link in orjson.loads(record["links_json"])],
        "droppedLinksCount": record["dropped_links_count"] or 0,
        "status": {"code": record["status_code"], "message": record["status_message"] or ""},
    }


def _event(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": event["name"],
        "timeUnixNano": str(event["time_unix_nano"]),
        "attributes": key_values(event.get("attributes", {})),
        "droppedAttributesCount": event.get("dropped_attributes_count", 0),
    }


def _link(link: dict[str, Any]) -> dict[str, Any]:
    return {
        "traceId": link["trace_id"],
        "spanId": link["span_id"],
        "traceState": link.get("trace_state", ""),
        "flags": link.get("flags", 0),
        "attributes": key_values(link.get("attributes", {})),
        "droppedAttributesCount": link.get("dropped_attributes_count", 0),
    }


def key_values(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": key, "value": any_value(value)} for key, value in attributes.items()]


def any_value(value: Any) -> dict[str, Any]:
    """The inverse of ingest/_anyvalue.py's decoding (an absent value is an empty AnyValue)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [any_value(v) for v in value]}}
    if isinstance(value, dict) and set(value) == {"bytesValue"}:
        return {"bytesValue": value["bytesValue"]}
    return {"kvlistValue": {"values": key_values(value)}}
