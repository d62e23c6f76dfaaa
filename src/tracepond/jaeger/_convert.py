"""Stored spans -> the JSON shapes of Jaeger's HTTP query API (``/api/traces``), which Jaeger's
UI and Grafana's Jaeger data source read.

One Jaeger trace: ``{"traceID", "spans": [...], "processes": {"p1": {"serviceName", "tags"}},
"warnings"}``. Times are microseconds. Span attributes become typed tags; OTLP fields Jaeger has
no place for (kind, status, scope) become the tags Jaeger's own OTLP translation uses
(``span.kind``, ``otel.status_code``, ``error``, ``otel.scope.name``...).
"""

from __future__ import annotations

from typing import Any

import orjson

from tracepond.model.records import SpanRecord

KINDS = ("", "internal", "server", "client", "producer", "consumer")
STATUS = ("UNSET", "OK", "ERROR")
ERROR_STATUS = 2


def tag(key: str, value: Any) -> dict[str, Any]:
    """A Jaeger key/value with its type (string, bool, int64, float64)."""
    if isinstance(value, bool):
        return {"key": key, "type": "bool", "value": value}
    if isinstance(value, int):
        return {"key": key, "type": "int64", "value": value}
    if isinstance(value, float):
        return {"key": key, "type": "float64", "value": value}
    if isinstance(value, str):
        return {"key": key, "type": "string", "value": value}
    # Arrays and maps: Jaeger has no such types; its OTLP translation writes them as JSON.
    return {"key": key, "type": "string", "value": orjson.dumps(value).decode()}


def _loads(text: str | None, default: Any) -> Any:
    return orjson.loads(text) if text else default


def _micros(ns: int) -> int:
    return int(ns) // 1000


def trace_json(trace_id: bytes, records: list[SpanRecord]) -> dict[str, Any]:
    processes: dict[str, dict[str, Any]] = {}
    process_ids: dict[tuple[str, str], str] = {}
    spans = []
    for record in records:
        key = (record["service_name"], record["resource_json"] or "")
        process_id = process_ids.get(key)
        if process_id is None:
            process_id = process_ids[key] = f"p{len(process_ids) + 1}"
            resource = _loads(record["resource_json"], {}).get("attributes", {})
            processes[process_id] = {
                "serviceName": record["service_name"],
                "tags": [tag(k, v) for k, v in resource.items() if k != "service.name"],
            }
        spans.append(span_json(record, process_id))
    return {"traceID": trace_id.hex(), "spans": spans, "processes": processes, "warnings": None}


def span_json(record: SpanRecord, process_id: str) -> dict[str, Any]:
    trace_hex = record["trace_id"].hex()
    references: list[dict[str, Any]] = []
    if record["parent_span_id"]:
        references.append(
            {"refType": "CHILD_OF", "traceID": trace_hex, "spanID": record["parent_span_id"].hex()}
        )
    for link in _loads(record["links_json"], []):
        references.append(
            {"refType": "FOLLOWS_FROM", "traceID": link["trace_id"], "spanID": link["span_id"]}
        )
    attributes: dict[str, Any] = _loads(record["attributes_json"], {})
    tags = [tag(k, v) for k, v in attributes.items()]
    kind = int(record["kind"])
    if 0 < kind < len(KINDS):
        tags.append(tag("span.kind", KINDS[kind]))
    status = int(record["status_code"])
    if status:
        tags.append(tag("otel.status_code", STATUS[status] if status < len(STATUS) else "UNSET"))
    if status == ERROR_STATUS:
        tags.append(tag("error", True))
    if record["status_message"]:
        tags.append(tag("otel.status_description", record["status_message"]))
    if record["scope_name"]:
        tags.append(tag("otel.scope.name", record["scope_name"]))
    if record["scope_version"]:
        tags.append(tag("otel.scope.version", record["scope_version"]))
    if record["trace_state"]:
        tags.append(tag("w3c.tracestate", record["trace_state"]))
    logs = []
    for event in _loads(record["events_json"], []):
        fields = [tag("event", event["name"])]
        fields += [tag(k, v) for k, v in (event.get("attributes") or {}).items()]
        logs.append({"timestamp": _micros(event["time_unix_nano"]), "fields": fields})
    start = _micros(record["start_ns"])
    return {
        "traceID": trace_hex,
        "spanID": record["span_id"].hex(),
        "operationName": record["name"],
        "references": references,
        "flags": int(record["flags"] or 0),
        "startTime": start,
        "duration": _micros(record["end_ns"]) - start,
        "tags": tags,
        "logs": logs,
        "processID": process_id,
        "warnings": None,
    }
