"""Pure OTLP trace decoding: request bytes -> columnar span rows plus a rejection report.

No I/O and no store access. Individually invalid spans are rejected one by one (OTLP
``partial_success`` semantics); a request that cannot be parsed at all raises InvalidRequest.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tracepond.conventions import SpanView, normalize_fields, view_json
from tracepond.errors import InvalidRequest
from tracepond.ingest._anyvalue import AttributeDecoder
from tracepond.ingest._rows import SpanRows

ZERO_TRACE_ID = bytes(16)
ZERO_SPAN_ID = bytes(8)
DEFAULT_SERVICE = "unknown_service"
# Timestamps are stored as signed 64-bit nanoseconds (good until the year 2262).
MAX_TIME_NS = 2**63 - 1


@dataclass
class DecodedBatch:
    rows: SpanRows
    rejected: int = 0
    # reason -> count, and one example span name per reason, for partial_success.error_message
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def accepted(self) -> int:
        return len(self.rows)


def parse_protobuf(body: bytes) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, ValueError) as exc:
        raise InvalidRequest(f"malformed OTLP protobuf ExportTraceServiceRequest: {exc}") from exc
    return request


class SpanDecoder:
    """Turns ExportTraceServiceRequest messages into SpanRows."""

    def __init__(self, max_attribute_bytes: int, normalize: bool = True) -> None:
        self._attrs = AttributeDecoder(max_attribute_bytes)
        self._normalize = normalize

    def decode(self, request: ExportTraceServiceRequest) -> DecodedBatch:
        batch = DecodedBatch(rows=SpanRows())
        for resource_spans in request.resource_spans:
            self._decode_resource(resource_spans, batch)
        return batch

    def _decode_resource(self, resource_spans: Any, batch: DecodedBatch) -> None:
        # Cuts in resource or scope attributes are reported on each of their spans, prefixed.
        resource_cuts: list[str] = []
        resource = self._attrs.attributes(resource_spans.resource.attributes, resource_cuts)
        service = resource.get("service.name")
        service_name = service if isinstance(service, str) and service else DEFAULT_SERVICE
        # One JSON text per resource; stored once per origin (resource + scope), not per span.
        resource_json = orjson.dumps(
            {
                "attributes": resource,
                "dropped_attributes_count": resource_spans.resource.dropped_attributes_count,
                "schema_url": resource_spans.schema_url,
            }
        ).decode()
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_cuts: list[str] = []
            scope_attrs = self._attrs.attributes(scope.attributes, scope_cuts)
            inherited_cuts = [f"resource:{k}" for k in resource_cuts]
            inherited_cuts += [f"scope:{k}" for k in scope_cuts]
            scope_json = orjson.dumps(
                {
                    "attributes": scope_attrs,
                    "dropped_attributes_count": scope.dropped_attributes_count,
                    "schema_url": scope_spans.schema_url,
                }
            ).decode()
            origin = origin_id(resource_json, scope_json)
            context = (service_name, origin, scope.name, scope.version, inherited_cuts)
            kept = len(batch.rows)
            for span in scope_spans.spans:
                reason = _invalid_reason(span)
                if reason is None:
                    self._append(span, context, batch.rows)
                else:
                    batch.rejected += 1
                    batch.reasons[reason] += 1
            if len(batch.rows) > kept:  # an origin none of whose spans is stored is not stored
                batch.rows.origins[origin] = (resource_json, scope_json)

    def _append(self, span: Any, context: tuple[Any, ...], rows: SpanRows) -> None:
        service_name, origin, scope_name, scope_version, cuts = context
        truncated: list[str] = list(cuts) if cuts else []
        attributes = self._attrs.attributes(span.attributes, truncated)
        events = [self._event(event, truncated) for event in span.events]
        links = [self._link(link, truncated) for link in span.links]
        status = span.status
        if self._normalize:
            view = normalize_fields(span.name, status.code, status.message, attributes, events)
            stored_view = view_json(view, attributes)
        else:
            view, stored_view = SpanView(), None
        usage = view.usage
        # In SPAN_COLUMNS order (a test pins it).
        rows.rows.append(
            (
                span.trace_id,
                span.span_id,
                span.parent_span_id or None,
                span.name,
                span.kind,
                span.start_time_unix_nano,
                span.end_time_unix_nano,
                status.code,
                status.message,
                span.trace_state,
                span.flags,
                service_name,
                origin,
                scope_name,
                scope_version,
                orjson.dumps(attributes).decode(),
                orjson.dumps(events).decode() if events else "[]",
                orjson.dumps(links).decode() if links else "[]",
                span.dropped_attributes_count,
                span.dropped_events_count,
                span.dropped_links_count,
                orjson.dumps(list(dict.fromkeys(truncated))).decode() if truncated else None,
                stored_view,
                # the view columns, in VIEW_COLUMNS (= SpanView.columns()) order
                view.category,
                view.model,
                view.provider,
                usage.input_tokens,
                usage.output_tokens,
                usage.total_tokens,
                view.cost,
                view.session_id,
                view.user_id,
                view.document_count,
                view.tool_name,
                view.error_type,
            )
        )
        rows.attributes.append(attributes)
        rows.events.append(events)
        rows.views.append(view)

    def _event(self, event: Any, truncated: list[str]) -> dict[str, Any]:
        cuts: list[str] = []
        attributes = self._attrs.attributes(event.attributes, cuts)
        truncated.extend(f"event:{event.name}:{key}" for key in cuts)
        return {
            "name": event.name,
            "time_unix_nano": event.time_unix_nano,
            "attributes": attributes,
            "dropped_attributes_count": event.dropped_attributes_count,
        }

    def _link(self, link: Any, truncated: list[str]) -> dict[str, Any]:
        cuts: list[str] = []
        attributes = self._attrs.attributes(link.attributes, cuts)
        truncated.extend(f"link:{link.span_id.hex()}:{key}" for key in cuts)
        return {
            "trace_id": link.trace_id.hex(),
            "span_id": link.span_id.hex(),
            "trace_state": link.trace_state,
            "flags": link.flags,
            "attributes": attributes,
            "dropped_attributes_count": link.dropped_attributes_count,
        }


def origin_id(resource_json: str, scope_json: str) -> int:
    """The stored key of a (resource, scope) pair: 64 bits of a hash of both JSON texts, so that
    every decoder (each worker process, each restart) names the same origin alike without
    asking the store. Two different origins share a key with odds of ~n²/2⁶⁵ for n origins."""
    digest = hashlib.blake2b(
        resource_json.encode() + b"\0" + scope_json.encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "little", signed=True)


def _invalid_reason(span: Any) -> str | None:
    """Why one span cannot be stored, or None when it is valid."""
    trace_id = span.trace_id
    if len(trace_id) != 16 or trace_id == ZERO_TRACE_ID:
        return "invalid trace_id (must be 16 bytes, not all zero)"
    span_id = span.span_id
    if len(span_id) != 8 or span_id == ZERO_SPAN_ID:
        return "invalid span_id (must be 8 bytes, not all zero)"
    parent = span.parent_span_id
    if parent and (len(parent) != 8 or parent == ZERO_SPAN_ID):
        return "invalid parent_span_id (must be empty or 8 bytes, not all zero)"
    if not span.name:
        return "missing name"
    if span.start_time_unix_nano == 0:
        return "missing start_time_unix_nano"
    if span.end_time_unix_nano > MAX_TIME_NS:
        return "end_time_unix_nano out of range"
    if span.end_time_unix_nano < span.start_time_unix_nano:
        return "end_time_unix_nano before start_time_unix_nano"
    return None
