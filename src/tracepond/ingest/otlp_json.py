"""OTLP/JSON -> ExportTraceServiceRequest.

OTLP/JSON differs from the protobuf JSON mapping in one way that matters: trace and span ids are
hex strings, not base64. Everything else (lowerCamelCase keys, int64 as string or number, enums
as integers, unknown fields ignored) the protobuf JSON parser already accepts.
"""

from __future__ import annotations

import base64
from collections import Counter
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
    """The request; raises InvalidRequest if any part of it is not valid OTLP/JSON."""
    request, unparsed = parse_json_spans(body)
    if unparsed:
        raise InvalidRequest(f"invalid OTLP/JSON ExportTraceServiceRequest: {dict(unparsed)}")
    return request


def parse_json_spans(body: bytes) -> tuple[ExportTraceServiceRequest, Counter[str]]:
    """The request, and the spans that could not be parsed (reason -> count).

    A value out of its field's range (a flags value past uint32, an intValue past int64) makes
    the protobuf JSON parser refuse the whole document. Then each span is parsed on its own, so
    that one bad span (a value out of range or of the wrong type) is rejected on its own
    (``partial_success``) and its siblings are stored. Only a body that is not JSON, or whose
    ``resourceSpans``/``scopeSpans`` are not lists of objects, fails as a whole."""
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
    except _PARSE_ERRORS:
        return _parse_span_by_span(document)
    return request, Counter()


_PARSE_ERRORS = (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError)
# Fixed texts: reasons are counted by text (partial_success, /metrics labels).
UNPARSABLE_SPAN = "invalid OTLP/JSON span (a field of the wrong type or out of its range)"
UNPARSABLE_ORIGIN = "invalid OTLP/JSON resource or scope (a field of the wrong type or range)"


def _parse_span_by_span(
    document: dict[str, Any],
) -> tuple[ExportTraceServiceRequest, Counter[str]]:
    request = ExportTraceServiceRequest()
    unparsed: Counter[str] = Counter()
    for resource_doc in _objects(document, "resourceSpans", "resource_spans"):
        scopes = _objects(resource_doc, "scopeSpans", "scope_spans")
        resource_spans = request.resource_spans.add()
        if not _parse_into(_without(resource_doc, "scopeSpans", "scope_spans"), resource_spans):
            unparsed[UNPARSABLE_ORIGIN] += sum(len(_list(scope, "spans")) for scope in scopes)
            continue
        for scope_doc in scopes:
            spans = _list(scope_doc, "spans")
            scope_spans = resource_spans.scope_spans.add()
            if not _parse_into(_without(scope_doc, "spans"), scope_spans):
                unparsed[UNPARSABLE_ORIGIN] += len(spans)
                continue
            for span_doc in spans:
                if not _parse_into(span_doc, scope_spans.spans.add()):
                    del scope_spans.spans[-1]
                    unparsed[UNPARSABLE_SPAN] += 1
    return request, unparsed


def _objects(parent: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    """The ``resourceSpans``/``scopeSpans`` list of ``parent``. These levels only group spans:
    when they are not a list of objects the document has no shape to salvage spans from."""
    for key in keys:
        value = parent.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise InvalidRequest(
                f"invalid OTLP/JSON ExportTraceServiceRequest: {key!r} must be a list of objects"
            )
        return value
    return []


def _without(part: Any, *keys: str) -> Any:
    if not isinstance(part, dict):
        return part
    return {key: value for key, value in part.items() if key not in keys}


def _parse_into(part: Any, message: Any) -> bool:
    """Merge one JSON object into ``message``; False (``message`` unchanged) if it is invalid."""
    parsed = type(message)()
    try:
        json_format.ParseDict(part, parsed, ignore_unknown_fields=True)
    except _PARSE_ERRORS:
        return False
    message.MergeFrom(parsed)
    return True


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
