"""OTLP/JSON -> ExportTraceServiceRequest.

OTLP/JSON differs from the protobuf JSON mapping in one way that matters: trace and span ids are
hex strings, not base64. Everything else (lowerCamelCase keys, int64 as string or number, enums
as integers, unknown fields ignored) the protobuf JSON parser already accepts.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracepond.errors import InvalidRequest

_SPAN_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
# A one-byte id can never be valid: a span whose id is not hex is rejected on its own by the
# decoder's validation instead of failing the whole request.
_INVALID_ID = base64.b64encode(b"\x00").decode()


def parse_json(body: bytes) -> ExportTraceServiceRequest:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"malformed JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidRequest("OTLP/JSON body must be an object with a 'resourceSpans' array")
    _hex_ids_to_base64(document)
    request = ExportTraceServiceRequest()
    try:
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidRequest(f"invalid OTLP/JSON ExportTraceServiceRequest: {exc}") from exc
    return request


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    for resource_spans in _list(document, "resourceSpans", "resource_spans"):
        for scope_spans in _list(resource_spans, "scopeSpans", "scope_spans"):
            for span in _list(scope_spans, "spans"):
                _convert_ids(span)
                for link in _list(span, "links"):
                    _convert_ids(link)


def _list(parent: Any, *keys: str) -> list[Any]:
    if not isinstance(parent, dict):
        return []
    for key in keys:
        value = parent.get(key)
        if isinstance(value, list):
            return value
    return []


def _convert_ids(item: Any) -> None:
    if not isinstance(item, dict):
        return
    for key in _SPAN_ID_KEYS:
        value = item.get(key)
        if isinstance(value, str):
            item[key] = _hex_to_base64(value)


def _hex_to_base64(text: str) -> str:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return _INVALID_ID
    return base64.b64encode(raw).decode()


def response_json(rejected: int, error_message: str) -> bytes:
    if not rejected and not error_message:
        return b"{}"
    partial = {"rejectedSpans": str(rejected), "errorMessage": error_message}
    return orjson.dumps({"partialSuccess": partial})
