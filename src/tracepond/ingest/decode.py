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

from tracepond.conventions import (
    PriceTable,
    SpanView,
    default_prices,
    normalize_fields,
    price_view,
    view_json,
)
from tracepond.errors import InvalidRequest
from tracepond.ingest._anyvalue import AttributeDecoder, cut, limited_map
from tracepond.ingest._fit import add_count, fit_map, fit_span
from tracepond.ingest._limits import MAX_MARKER_BYTES, Marker, SpanLimits
from tracepond.ingest._rows import SpanRows
from tracepond.projects import PROJECT_ATTRIBUTE

ZERO_TRACE_ID = bytes(16)
ZERO_SPAN_ID = bytes(8)
DEFAULT_SERVICE = "unknown_service"
# Timestamps are stored as signed 64-bit nanoseconds (good until the year 2262).
MAX_TIME_NS = 2**63 - 1
# OTLP enums are int32 on the wire: a value past the last one defined is no kind or status at
# all (and would not fit the one-byte columns), so such a span is rejected on its own.
MAX_SPAN_KIND = 5  # SPAN_KIND_CONSUMER
MAX_STATUS_CODE = 2  # STATUS_CODE_ERROR
# A span whose attribute and event JSON passes this many bytes keeps only the part of its view
# that trace totals read (the rest is in view_json already).
LARGE_SPAN_BYTES = 16 * 1024


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
    """Turns ExportTraceServiceRequest messages into SpanRows, each span within ``limits``;
    ``max_attribute_bytes`` alone is short for the default limits with that string limit."""

    def __init__(
        self,
        max_attribute_bytes: int | None = None,
        normalize: bool = True,
        *,
        limits: SpanLimits | None = None,
        keep_values: bool = False,
        prices: PriceTable | None = None,
    ) -> None:
        if limits is None:
            limits = SpanLimits(**_value_limit(max_attribute_bytes))
        elif max_attribute_bytes is not None:
            raise TypeError("give limits or max_attribute_bytes, not both")
        self._limits = limits
        self._attrs = AttributeDecoder(limits)
        self._normalize = normalize
        # Prices LLM and embedding calls that sent no cost (None: the bundled table alone).
        self._prices = default_prices() if prices is None else prices
        # Whether SpanRows keeps each span's decoded attributes and events (tests, tools).
        self._keep_values = keep_values
        # Names of at most this many characters fit for sure (4 bytes per character at most).
        self._name_chars = limits.max_name_bytes // 4
        self._value_chars = limits.max_value_bytes // 4

    def decode(self, request: ExportTraceServiceRequest) -> DecodedBatch:
        batch = DecodedBatch(rows=SpanRows())
        for resource_spans in request.resource_spans:
            self._decode_resource(resource_spans, batch)
        return batch

    def _decode_resource(self, resource_spans: Any, batch: DecodedBatch) -> None:
        # Cuts in resource or scope attributes are reported on each of their spans, prefixed.
        resource_cuts: list[str] = []
        resource_json, resource = self._origin_part(
            resource_spans.resource, resource_spans.schema_url, resource_cuts
        )
        service = resource.get("service.name")
        service_name = service if isinstance(service, str) and service else DEFAULT_SERVICE
        service_name = self._name(service_name, "@service_name", resource_cuts)
        # Read once per resource; validated by the ingest service, which routes by it.
        project = resource.get(PROJECT_ATTRIBUTE)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            scope_cuts: list[str] = []
            scope_json, _ = self._origin_part(scope, scope_spans.schema_url, scope_cuts)
            scope_name = self._name(scope.name, "@name", scope_cuts)
            scope_version = self._name(scope.version, "@version", scope_cuts)
            inherited_cuts = [_under("resource:", k) for k in resource_cuts]
            inherited_cuts += [_under("scope:", k) for k in scope_cuts]
            origin = origin_id(resource_json, scope_json)
            context = (service_name, origin, scope_name, scope_version, inherited_cuts)
            kept = len(batch.rows)
            for span in scope_spans.spans:
                status = span.status
                reason = _invalid_reason(span, status)
                if reason is None:
                    self._append(span, status, context, batch.rows)
                else:
                    batch.rejected += 1
                    batch.reasons[reason] += 1
            if len(batch.rows) > kept:  # an origin none of whose spans is stored is not stored
                batch.rows.origins[origin] = (resource_json, scope_json)
                if isinstance(project, str):
                    batch.rows.origin_projects[origin] = project

    def _origin_part(
        self, part: Any, schema_url: str, cuts: list[str]
    ) -> tuple[str, dict[str, Any]]:
        """A resource's or scope's JSON text (stored once per origin), within the limits, and
        its decoded attributes."""
        limits = self._limits
        attributes, dropped = limited_map(self._attrs, part.attributes, limits.max_attributes, cuts)
        schema_url = self._name(schema_url, "@schema_url", cuts)
        text = _origin_json(attributes, part.dropped_attributes_count + dropped, schema_url)
        if len(text) > limits.max_span_attribute_bytes:  # only then are entries measured
            dropped += fit_map(attributes, limits.max_span_attribute_bytes, cuts)
            text = _origin_json(attributes, part.dropped_attributes_count + dropped, schema_url)
        return text.decode(), attributes

    def _append(self, span: Any, status: Any, context: tuple[Any, ...], rows: SpanRows) -> None:
        service_name, origin, scope_name, scope_version, cuts = context
        limits = self._limits
        truncated: list[str] = list(cuts) if cuts else []
        # Each limit is checked inline with one len(): only what is over it pays for more.
        name = span.name
        if len(name) > self._name_chars:
            name = self._cut(name, limits.max_name_bytes, Marker.NAME, truncated)
        key_values = span.attributes
        if len(key_values) <= limits.max_attributes:
            attributes, dropped_attributes = self._attrs.attributes(key_values, truncated), 0
        else:
            attributes, dropped_attributes = limited_map(
                self._attrs, key_values, limits.max_attributes, truncated
            )
        events = [self._event(event, truncated) for event in span.events]
        links = [self._link(link, truncated) for link in span.links]
        attributes_json = orjson.dumps(attributes)
        events_json = orjson.dumps(events) if events else b"[]"
        links_json = orjson.dumps(links) if links else b"[]"
        dropped_events = dropped_links = 0
        budget = limits.max_span_attribute_bytes
        if len(attributes_json) + len(events_json) + len(links_json) > budget:
            fitted = fit_span(attributes, events, links, budget, truncated)
            attributes_json, events_json = fitted.attributes_json, fitted.events_json
            links_json = fitted.links_json
            dropped_attributes += fitted.dropped_attributes
            dropped_events, dropped_links = fitted.dropped_events, fitted.dropped_links
        status_message = status.message
        if len(status_message) > self._value_chars:
            status_message = self._cut(
                status_message, limits.max_value_bytes, Marker.STATUS_MESSAGE, truncated
            )
        if self._normalize:
            view = normalize_fields(name, status.code, status_message, attributes, events)
            price_view(view, span.start_time_unix_nano, self._prices)
            stored_view = self._stored_view(view, attributes)
        else:
            view, stored_view = SpanView(), None
        view_columns = self._view_columns(view, truncated)
        if self._normalize and len(attributes_json) + len(events_json) > LARGE_SPAN_BYTES:
            # The view holds the span's texts (input, messages...) until the request's
            # summaries are made; a large span's would keep them all alive till then. Its
            # columns are taken above, whole.
            view = _totals_view(view)
        trace_state = span.trace_state
        if len(trace_state) > self._name_chars:
            trace_state = self._name(trace_state, Marker.TRACE_STATE, truncated)
        # In ROW_COLUMNS order (a test pins it); the JSON texts go to their own columns.
        rows.rows.append(
            (
                span.trace_id,
                span.span_id,
                span.parent_span_id or None,
                name,
                span.kind,
                span.start_time_unix_nano,
                span.end_time_unix_nano,
                status.code,
                status_message,
                trace_state,
                span.flags,
                service_name,
                origin,
                scope_name,
                scope_version,
                _plus(span.dropped_attributes_count, dropped_attributes),
                _plus(span.dropped_events_count, dropped_events),
                _plus(span.dropped_links_count, dropped_links),
                *view_columns,
            )
        )
        texts = rows.texts
        texts["attributes_json"].append(attributes_json)
        texts["events_json"].append(events_json)
        texts["links_json"].append(links_json)
        texts["truncated_json"].append(markers_json(truncated) if truncated else None)
        texts["view_json"].append(None if stored_view is None else stored_view.encode())
        rows.views.append(view)
        if self._keep_values:
            rows.attributes.append(attributes)
            rows.events.append(events)

    def _event(self, event: Any, truncated: list[str]) -> dict[str, Any]:
        cuts: list[str] = []
        # A cut event name is marked ``event:<name as stored>:@name``.
        name = self._name(event.name, Marker.NAME, cuts)
        attributes, dropped = limited_map(
            self._attrs, event.attributes, self._limits.max_attributes, cuts
        )
        if cuts:
            prefix = f"event:{name}:"
            truncated.extend(_under(prefix, key) for key in cuts)
        return {
            "name": name,
            "time_unix_nano": event.time_unix_nano,
            "attributes": attributes,
            "dropped_attributes_count": add_count(event.dropped_attributes_count, dropped),
        }

    def _link(self, link: Any, truncated: list[str]) -> dict[str, Any]:
        cuts: list[str] = []
        attributes, dropped = limited_map(
            self._attrs, link.attributes, self._limits.max_attributes, cuts
        )
        span_id = link.span_id.hex()
        trace_state = self._name(link.trace_state, Marker.TRACE_STATE, cuts)
        truncated.extend(_under(f"link:{span_id}:", key) for key in cuts)
        return {
            "trace_id": link.trace_id.hex(),
            "span_id": span_id,
            "trace_state": trace_state,
            "flags": link.flags,
            "attributes": attributes,
            "dropped_attributes_count": add_count(link.dropped_attributes_count, dropped),
        }

    def _name(self, text: str, marker: str, truncated: list[str]) -> str:
        """``text`` within the name limit; a cut one is listed as ``marker``."""
        if len(text) <= self._name_chars:
            return text
        return self._cut(text, self._limits.max_name_bytes, marker, truncated)

    def _view_columns(self, view: SpanView, truncated: list[str]) -> tuple[Any, ...]:
        """The view columns, in VIEW_COLUMNS (= SpanView.columns()) order. The string ones are
        copies of attribute values (up to the value limit); as columns they are names, and
        bounded as names."""
        texts: tuple[str | None, ...] = (
            view.category,
            view.model,
            view.provider,
            view.session_id,
            view.user_id,
            view.tool_name,
            view.error_type,
        )
        limit = self._name_chars
        for text in texts:
            if text is not None and len(text) > limit:
                texts = self._bounded_texts(texts, truncated)
                break
        category, model, provider, session_id, user_id, tool_name, error_type = texts
        usage = view.usage
        count = view.document_count
        return (
            category,
            model,
            provider,
            usage.input_tokens,
            usage.output_tokens,
            usage.total_tokens,
            view.cost,
            view.cost_source,
            view.cost_price,
            session_id,
            user_id,
            count if count is None or count <= _INT32_MAX else _INT32_MAX,
            tool_name,
            error_type,
        )

    def _bounded_texts(
        self, texts: tuple[str | None, ...], truncated: list[str]
    ) -> tuple[str | None, ...]:
        limit = self._limits.max_name_bytes
        return tuple(
            text if text is None else self._cut(text, limit, Marker.view(column), truncated)
            for text, column in zip(texts, _VIEW_TEXT_COLUMNS, strict=True)
        )

    @staticmethod
    def _cut(text: str, max_bytes: int, marker: str, truncated: list[str]) -> str:
        kept = cut(text, max_bytes)
        if kept is None:
            return text
        truncated.append(marker)
        return kept

    def view_of(
        self,
        name: str,
        status_code: int,
        status_message: str,
        attributes: dict[str, Any],
        events: list[Any],
        start_ns: int,
    ) -> tuple[str | None, tuple[Any, ...]]:
        """A span's stored view JSON and view columns (VIEW_COLUMNS order), bounded as ingest
        bounds them: what ``tracepond reindex`` recomputes from stored attributes (the start
        time picks the price of a computed cost)."""
        view = normalize_fields(name, status_code, status_message, attributes, events)
        price_view(view, start_ns, self._prices)
        return self._stored_view(view, attributes), self._view_columns(view, [])

    def _stored_view(self, view: SpanView, attributes: dict[str, Any]) -> str | None:
        stored = view_json(view, attributes)
        if stored is not None and len(stored) > self._limits.max_span_attribute_bytes // 4:
            return self._bounded_view_json(stored)
        return stored

    def _bounded_view_json(self, text: str) -> str | None:
        # The view is derived from the attributes and can repeat them (messages built from
        # flattened attributes): past the span budget it is not stored, and readers derive it
        # from the raw attributes, as for spans stored before views were.
        if len(text.encode()) <= self._limits.max_span_attribute_bytes:
            return text
        return None


def _origin_json(attributes: dict[str, Any], dropped: int, schema_url: str) -> bytes:
    return orjson.dumps(
        {
            "attributes": attributes,
            "dropped_attributes_count": add_count(dropped, 0),
            "schema_url": schema_url,
        }
    )


def _value_limit(max_attribute_bytes: int | None) -> dict[str, int]:
    return {} if max_attribute_bytes is None else {"max_value_bytes": max_attribute_bytes}


def markers_json(truncated: list[str]) -> bytes:
    """The span's ``truncated_attributes`` as JSON: each marker once, in order, at most
    MAX_MARKER_BYTES of them, then one marker saying how many more there were."""
    markers = list(dict.fromkeys(truncated))
    text = orjson.dumps(markers)
    if len(text) <= MAX_MARKER_BYTES:
        return text
    kept: list[str] = []
    size = 2  # the brackets
    for marker in markers:
        size += len(orjson.dumps(marker)) + 1
        if size > MAX_MARKER_BYTES:
            break
        kept.append(marker)
    kept.append(Marker.more(len(markers) - len(kept)))
    return orjson.dumps(kept)


def _under(prefix: str, marker: str) -> str:
    return Marker.under(prefix, marker)


# document_count is stored as a 32-bit integer.
_INT32_MAX = 2**31 - 1
_VIEW_TEXT_COLUMNS = (
    "category",
    "model",
    "provider",
    "session_id",
    "user_id",
    "tool_name",
    "error_type",
)


def _totals_view(view: SpanView) -> SpanView:
    """The fields of ``view`` that trace totals read (``conventions.trace_totals``)."""
    return SpanView(
        view.category,
        view.model,
        usage=view.usage,
        cost=view.cost,
        session_id=view.session_id,
        user_id=view.user_id,
    )


def _plus(count: int, more: int) -> int:
    # The common case adds nothing: no call.
    return add_count(count, more) if more else count


def origin_id(resource_json: str, scope_json: str) -> int:
    """The stored key of a (resource, scope) pair: 64 bits of a hash of both JSON texts, so that
    every decoder (each worker process, each restart) names the same origin alike without
    asking the store. Two different origins share a key with odds of ~n²/2⁶⁵ for n origins."""
    digest = hashlib.blake2b(
        resource_json.encode() + b"\0" + scope_json.encode(), digest_size=8
    ).digest()
    return int.from_bytes(digest, "little", signed=True)


def _invalid_reason(span: Any, status: Any) -> str | None:
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
    if not 0 <= span.kind <= MAX_SPAN_KIND:
        return "kind out of range (0-5)"
    if not 0 <= status.code <= MAX_STATUS_CODE:
        return "status.code out of range (0-2)"
    if span.start_time_unix_nano == 0:
        return "missing start_time_unix_nano"
    if span.end_time_unix_nano > MAX_TIME_NS:
        return "end_time_unix_nano out of range"
    if span.end_time_unix_nano < span.start_time_unix_nano:
        return "end_time_unix_nano before start_time_unix_nano"
    return None
