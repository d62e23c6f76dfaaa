"""Captured OTLP requests (tests/fixtures/conventions/<producer>/) -> SpanInput records.

A small stand-alone converter so these tests need neither the producers nor the ingest
decoder: protobuf via ExportTraceServiceRequest, OTLP/JSON by hand (lowerCamelCase keys,
int64 as strings, hex ids).
"""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracepond.conventions import SpanInput

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conventions"


@dataclass(frozen=True)
class CapturedSpan:
    span_id: str
    parent_span_id: str | None
    span: SpanInput


def load(producer: str) -> list[CapturedSpan]:
    """Every span of every trace request captured from ``producer``, in capture order."""
    out: list[CapturedSpan] = []
    for path in sorted((FIXTURES / producer).iterdir()):
        if path.name.startswith(("logs-", "metrics-")):
            continue
        out.extend(_spans(_request_dict(path)))
    return out


def by_name(producer: str) -> dict[str, SpanInput]:
    return {captured.span.name: captured.span for captured in load(producer)}


def _request_dict(path: Path) -> dict[str, Any]:
    body = path.read_bytes()
    if path.name.endswith(".gz"):
        body = gzip.decompress(body)
    if ".json" in path.name:
        return dict(json.loads(body))
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    # MessageToDict gives the OTLP/JSON shape, except ids in base64: handled in _hex.
    return dict(MessageToDict(request))


def _spans(request: dict[str, Any]) -> list[CapturedSpan]:
    out = []
    for resource_spans in request.get("resourceSpans", []):
        resource = _attributes(resource_spans.get("resource", {}).get("attributes", []))
        for scope_spans in resource_spans.get("scopeSpans", []):
            scope = scope_spans.get("scope", {}).get("name", "")
            for span in scope_spans.get("spans", []):
                out.append(_span(span, resource, scope))
    return out


def _span(span: dict[str, Any], resource: dict[str, Any], scope: str) -> CapturedSpan:
    status = span.get("status", {})
    record = SpanInput(
        name=span.get("name", ""),
        kind=_enum(span.get("kind", 0), "SPAN_KIND_", _KINDS),
        status_code=_enum(status.get("code", 0), "STATUS_CODE_", _STATUS),
        status_message=status.get("message", ""),
        attributes=_attributes(span.get("attributes", [])),
        events=[
            {
                "name": event.get("name", ""),
                "time_unix_nano": int(event.get("timeUnixNano", 0)),
                "attributes": _attributes(event.get("attributes", [])),
            }
            for event in span.get("events", [])
        ],
        resource_attributes=resource,
        scope_name=scope,
    )
    parent = span.get("parentSpanId") or None
    return CapturedSpan(_hex(span["spanId"]), _hex(parent) if parent else None, record)


_KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"]
_STATUS = ["UNSET", "OK", "ERROR"]


def _enum(value: Any, prefix: str, names: list[str]) -> int:
    if isinstance(value, str):
        return names.index(value.removeprefix(prefix))
    return int(value)


def _hex(value: str) -> str:
    if len(value) in (16, 32) and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    return base64.b64decode(value).hex()


def _attributes(key_values: list[dict[str, Any]]) -> dict[str, Any]:
    return {kv["key"]: _value(kv.get("value", {})) for kv in key_values}


def _value(value: dict[str, Any]) -> Any:
    """OTLP AnyValue (JSON mapping) -> the decoder's plain Python value."""
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "arrayValue" in value:
        return [_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return _attributes(value["kvlistValue"].get("values", []))
    if "bytesValue" in value:
        return {"bytesValue": value["bytesValue"]}
    return None
