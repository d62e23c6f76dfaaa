"""OTLP/protobuf encoding of finished spans, written straight to wire bytes.

`encode_request(spans)` returns the serialized `ExportTraceServiceRequest` that OTel's
`encode_spans(spans).SerializeToString()` returns, without building protobuf objects field by
field: it writes tags, varints and length-delimited fields itself, caches what repeats from span
to span (attribute keys, short string attributes, span names, resources, scopes) and never
imports protobuf. It mirrors OTel's encoder exactly, including its choices (resources and scopes
grouped by equality in first-seen order; an attribute that cannot be encoded is logged and left
out; span `flags` carry only the is-remote bits; links carry no trace_state), so the two outputs
decode to the same message (tests compare them byte for byte over every value type).

Field numbers are those of opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status
from opentelemetry.trace.span import DEFAULT_TRACE_STATE

logger = logging.getLogger("tracepond")

_M64 = (1 << 64) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_ONE_BYTE = [bytes((i,)) for i in range(128)]

# Span: trace_id (1, bytes 16) + span_id (2, bytes 8), big-endian ids as OTel writes them.
_pack_ids = struct.Struct(">2s16s2sQ").pack
_pack_parent = struct.Struct(">BBQ").pack  # parent_span_id (4)
_pack_u64 = struct.Struct("<Q").pack  # fixed64 payloads: times
_pack_double = struct.Struct("<d").pack
_pack_u32 = struct.Struct("<I").pack

_pack_kind_times = struct.Struct("<BBBQBQ").pack  # kind (6), start (7) and end (8) times

# Span.kind (6): the SDK's SpanKind to the proto enum (looked up by identity first: fast).
_KIND_VALUE = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_KIND_VALUE_BY_ID = {id(kind): value for kind, value in _KIND_VALUE.items()}
# flags (Span 16, Link 6; fixed32): SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE, | CONTEXT_IS_REMOTE.
_LOCAL, _REMOTE = 0x100, 0x300
_SPAN_FLAGS = {False: b"\x85\x01" + _pack_u32(_LOCAL), True: b"\x85\x01" + _pack_u32(_REMOTE)}
_LINK_FLAGS = {False: b"\x35" + _pack_u32(_LOCAL), True: b"\x35" + _pack_u32(_REMOTE)}

_TRUE = b"\x10\x01"  # AnyValue.bool_value (2)
_FALSE = b"\x10\x00"

# Caches of encodings that repeat from span to span. Bounded: cleared when full.
_CACHE_LIMIT = 4096
_CACHED_VALUE_CHARS = 64
_key_fields: dict[str, bytes] = {}  # attribute key -> KeyValue.key field
_str_attrs: dict[tuple[str, str], bytes] = {}  # (key, short str) -> whole KeyValue
_names: dict[str, bytes] = {}  # span name -> Span.name field
_statuses: dict[int, tuple[Status, bytes]] = {}  # Status object -> Span.status field
# Resource / scope -> its encoded message, checked by identity (these live as long as the
# provider/tracer, so a handful of entries).
_resources: dict[int, tuple[Resource, bytes]] = {}
_scopes: dict[int, tuple[InstrumentationScope, bytes]] = {}


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _ONE_BYTE[n]
    if n < 0x4000:
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def length_delimited(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, varint length, payload."""
    n = len(payload)
    if n < 0x80:
        return tag + _ONE_BYTE[n] + payload
    return tag + _varint(n) + payload


_field = length_delimited


def _int64(value: int) -> bytes:
    if _INT64_MIN <= value <= _INT64_MAX:
        return _varint(value & _M64)
    raise ValueError(f"Value out of range: {value}")


def _any_value(value: Any) -> bytes:
    """The body of an AnyValue, with OTel's `_encode_value` rules (same type order)."""
    cls = type(value)
    if cls is str:
        return _field(b"\x0a", value.encode())
    if cls is bool:
        return _TRUE if value else _FALSE
    if cls is int:
        return b"\x18" + _int64(value)
    if cls is float:
        return b"\x21" + _pack_double(value)
    return _any_other(value)


def _any_other(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, str):
        return _field(b"\x0a", value.encode())
    if isinstance(value, int):
        return b"\x18" + _int64(value)
    if isinstance(value, float):
        return b"\x21" + _pack_double(value)
    if isinstance(value, bytes):
        return _field(b"\x3a", value)
    if isinstance(value, Sequence):  # ArrayValue (5) of AnyValue (1)
        return _field(b"\x2a", b"".join([_field(b"\x0a", _any_value(v)) for v in value]))
    if isinstance(value, Mapping):  # KeyValueList (6) of KeyValue (1)
        items = [_field(b"\x0a", _key_value(str(k), v)) for k, v in value.items()]
        return _field(b"\x32", b"".join(items))
    raise TypeError(f"Invalid type {type(value)} of value {value}")


def _key_field(key: str) -> bytes:
    field = _key_fields.get(key)
    if field is None:
        # KeyValue.key (1); proto3 leaves an empty key out.
        field = _field(b"\x0a", key.encode()) if key else b""
        if len(_key_fields) >= _CACHE_LIMIT:
            _key_fields.clear()
        _key_fields[key] = field
    return field


def _key_value(key: str, value: Any) -> bytes:
    """A KeyValue body: key (1) and value (2, always present, possibly empty)."""
    return _key_field(key) + _field(b"\x12", _any_value(value))


def _attributes(tag: bytes, attributes: Any, out: list[bytes]) -> None:
    """Append one `tag`-field per attribute; an attribute that fails is logged and skipped."""
    if not attributes:
        return
    for key, value in attributes.items():
        field = _attribute(tag, key, value)
        if field is not None:
            out.append(field)


def _attribute(tag: bytes, key: str, value: Any) -> bytes | None:
    """One `tag` field holding a KeyValue; None (logged, as OTel does) if it cannot be encoded."""
    try:
        return _field(tag, _key_value(key, value))
    except Exception as error:
        logger.exception("Failed to encode key %s: %s", key, error)
        return None


def _span_attributes(items: Mapping[str, Any], out: list[bytes]) -> None:
    """Span.attributes (9) fields: the hot loop, with short string values cached."""
    cache = _str_attrs
    for key, value in items.items():
        if type(value) is str:
            if len(value) <= _CACHED_VALUE_CHARS:
                field = cache.get((key, value))
                if field is None:
                    field = _attribute(b"\x4a", key, value)
                    if field is None:
                        continue
                    if len(cache) >= _CACHE_LIMIT:
                        cache.clear()
                    cache[(key, value)] = field
                out.append(field)
                continue
            try:  # a long string: written piece by piece, copied once by the final join
                data = value.encode()
            except Exception as error:
                logger.exception("Failed to encode key %s: %s", key, error)
                continue
            key_field = _key_fields.get(key)
            if key_field is None:
                key_field = _key_field(key)
            size = _varint(len(data))
            any_size = 1 + len(size) + len(data)  # AnyValue: string_value (1)
            any_prefix = _varint(any_size)
            out += (
                b"\x4a",
                _varint(len(key_field) + 1 + len(any_prefix) + any_size),
                key_field,
                b"\x12",  # KeyValue.value (2)
                any_prefix,
                b"\x0a",
                size,
                data,
            )
            continue
        field = _attribute(b"\x4a", key, value)
        if field is not None:
            out.append(field)


def _uint(tag: bytes, value: int) -> bytes:
    return tag + _varint(value) if value else b""


def _name_field(name: str | None) -> bytes:
    if not name:
        return b""
    field = _field(b"\x2a", name.encode())  # Span.name (5)
    if len(_names) >= _CACHE_LIMIT:
        _names.clear()
    _names[name] = field
    return field


def _status_field(status: Status | None) -> bytes:
    """Span.status (15): present even when empty; absent only when the span has none."""
    if status is None:
        return b""
    body = b""
    description = status.description
    if description:  # Status.message (2)
        body += _field(b"\x12", description.encode())
    code = status.status_code.value
    if code:  # Status.code (3)
        body += b"\x18" + _varint(code)
    field = _field(b"\x7a", body)
    if len(_statuses) >= _CACHE_LIMIT:
        _statuses.clear()
    _statuses[id(status)] = (status, field)
    return field


def _trace_state(context: SpanContext) -> bytes:
    state = context.trace_state
    if not state:
        return b""
    text = ",".join([f"{key}={value}" for key, value in state.items()])
    return _field(b"\x1a", text.encode()) if text else b""


def _event(event: Any) -> bytes:
    out: list[bytes] = []
    timestamp = event.timestamp
    if timestamp:  # Event.time_unix_nano (1, fixed64)
        out.append(b"\x09" + _pack_u64(timestamp))
    name = event.name
    if name:  # Event.name (2)
        out.append(_field(b"\x12", name.encode()))
    _attributes(b"\x1a", event.attributes, out)  # Event.attributes (3)
    out.append(_uint(b"\x20", event.dropped_attributes))  # (4)
    return _field(b"\x5a", b"".join(out))  # Span.events (11)


def _link(link: Any) -> bytes:
    context = link.context
    out = [
        _pack_ids(b"\x0a\x10", context.trace_id.to_bytes(16, "big"), b"\x12\x08", context.span_id)
    ]
    _attributes(b"\x22", link.attributes, out)  # Link.attributes (4)
    out.append(_uint(b"\x28", link.dropped_attributes))  # (5)
    out.append(_LINK_FLAGS[bool(context.is_remote)])  # Link.flags (6)
    return _field(b"\x6a", b"".join(out))  # Span.links (13)


def encode_span(span: Any) -> bytes:
    """One ReadableSpan as a Span message body (no tag or length)."""
    return b"".join(_span_parts(span))


def encode_span_field(span: Any) -> bytes:
    """One ReadableSpan as a ScopeSpans.spans (2) field: tag, length, Span message."""
    body = b"".join(_span_parts(span))
    size = len(body)
    if size < 0x80:
        return _SPANS_TAG_1[size] + body
    if size < 0x4000:
        return _pack_tag_2(0x12, (size & 0x7F) | 0x80, size >> 7) + body
    return b"\x12" + _varint(size) + body


_SPANS_TAG_1 = [b"\x12" + one for one in _ONE_BYTE]
_pack_tag_2 = struct.Struct("BBB").pack


def _span_parts(span: Any) -> list[bytes]:
    """The fields of a Span message.

    The hot path: once per exported span. Reads the span's private fields (the public
    properties copy events, links and attributes on every access); an OTel version that renamed
    them makes this raise, and the caller then falls back to OTel's encoder.
    """
    context = span._context
    out = [
        _pack_ids(b"\x0a\x10", context.trace_id.to_bytes(16, "big"), b"\x12\x08", context.span_id)
    ]
    state = context.trace_state
    if state is not DEFAULT_TRACE_STATE and state:
        out.append(_trace_state(context))  # trace_state (3)
    parent = span._parent
    if parent is not None:
        out.append(_pack_parent(0x22, 8, parent.span_id))  # parent_span_id (4)
    name = span._name
    field = _names.get(name)
    out.append(field if field is not None else _name_field(name))  # name (5)
    kind = _KIND_VALUE_BY_ID.get(id(span._kind))
    if kind is None:
        kind = _KIND_VALUE[span._kind]
    start, end = span._start_time, span._end_time
    if start and end:  # kind (6), start_time_unix_nano (7), end_time_unix_nano (8)
        out.append(_pack_kind_times(0x30, kind, 0x39, start, 0x41, end))
    else:
        out.append(bytes((0x30, kind)))
        if start:
            out.append(b"\x39" + _pack_u64(start))
        if end:
            out.append(b"\x41" + _pack_u64(end))
    attributes = span._attributes
    if type(attributes) is BoundedAttributes:
        items = attributes._dict
        if items:
            _span_attributes(items, out)  # attributes (9)
        if attributes.dropped:
            out.append(b"\x50" + _varint(attributes.dropped))  # dropped_attributes_count (10)
    else:
        if attributes:
            _span_attributes(attributes, out)
        dropped = span.dropped_attributes
        if dropped:
            out.append(b"\x50" + _varint(dropped))
    events = span._events
    if type(events) is BoundedList:
        if events._dq:  # type: ignore[attr-defined]
            out.extend([_event(event) for event in events])  # events (11)
        if events.dropped:
            out.append(b"\x60" + _varint(events.dropped))  # dropped_events_count (12)
    else:
        if events:
            out.extend([_event(event) for event in events])
        dropped = span.dropped_events
        if dropped:
            out.append(b"\x60" + _varint(dropped))
    links = span._links
    if type(links) is BoundedList:
        if links._dq:  # type: ignore[attr-defined]
            out.extend([_link(link) for link in links])  # links (13)
        if links.dropped:
            out.append(b"\x70" + _varint(links.dropped))  # dropped_links_count (14)
    else:
        if links:
            out.extend([_link(link) for link in links])
        dropped = span.dropped_links
        if dropped:
            out.append(b"\x70" + _varint(dropped))
    status = span._status
    entry = _statuses.get(id(status))
    out.append(entry[1] if entry is not None and entry[0] is status else _status_field(status))
    out.append(_SPAN_FLAGS[parent is not None and parent.is_remote])  # flags (16)
    return out


def _resource_field(resource: Resource) -> bytes:
    """ResourceSpans.resource (1); `Resource.attributes` only, as OTel writes it."""
    entry = _resources.get(id(resource))
    if entry is not None and entry[0] is resource:
        return entry[1]
    out: list[bytes] = []
    _attributes(b"\x0a", resource.attributes, out)
    field = _field(b"\x0a", b"".join(out))
    if len(_resources) >= 64:
        _resources.clear()
    _resources[id(resource)] = (resource, field)
    return field


def _scope_fields(scope: InstrumentationScope | None) -> tuple[bytes, bytes]:
    """ScopeSpans.scope (1) and ScopeSpans.schema_url (3)."""
    if scope is None:
        return b"\x0a\x00", b""
    entry = _scopes.get(id(scope))
    if entry is not None and entry[0] is scope:
        field = entry[1]
    else:
        out: list[bytes] = []
        if scope.name:
            out.append(_field(b"\x0a", scope.name.encode()))
        if scope.version:
            out.append(_field(b"\x12", scope.version.encode()))
        _attributes(b"\x1a", scope.attributes, out)
        field = _field(b"\x0a", b"".join(out))
        if len(_scopes) >= 256:
            _scopes.clear()
        _scopes[id(scope)] = (scope, field)
    schema_url = scope.schema_url
    return field, _field(b"\x1a", schema_url.encode()) if schema_url else b""


def encode_request(spans: Sequence[ReadableSpan]) -> bytes:
    """The serialized ExportTraceServiceRequest for `spans` (what OTel's encoder returns).

    Spans are grouped by resource, then by instrumentation scope, each group in the order it
    is first seen and compared by equality as OTel does (through dicts keyed by the objects),
    with an identity shortcut so that the objects are hashed once per batch, not per span.
    """
    tree: dict[Any, dict[Any, list[bytes]]] = {}
    by_identity: dict[tuple[int, int], list[bytes]] = {}
    last_resource: Any = _MISSING
    last_scope: Any = _MISSING
    current: list[bytes] = []
    span: Any
    for span in spans:
        resource = span._resource
        scope = span._instrumentation_scope or None
        if resource is not last_resource or scope is not last_scope:
            key = (id(resource), id(scope))
            found = by_identity.get(key)
            if found is None:
                found = tree.setdefault(resource, {}).setdefault(scope, [])
                by_identity[key] = found
            current, last_resource, last_scope = found, resource, scope
        current.append(encode_span_field(span))  # ScopeSpans.spans (2)
    return assemble_request(tree)


def assemble_request(tree: Mapping[Resource, Mapping[Any, Sequence[bytes]]]) -> bytes:
    """An ExportTraceServiceRequest from resource -> scope -> encoded ScopeSpans.spans fields."""
    out: list[bytes] = []
    for resource, scopes in tree.items():
        parts = [_resource_field(resource)]
        for scope, encoded in scopes.items():
            scope_field, schema_url = _scope_fields(scope)
            parts.append(_field(b"\x12", b"".join([scope_field, *encoded, schema_url])))
        if resource.schema_url:  # ResourceSpans.schema_url (3)
            parts.append(_field(b"\x1a", resource.schema_url.encode()))
        out.append(_field(b"\x0a", b"".join(parts)))  # ExportTraceServiceRequest (1)
    return b"".join(out)


_MISSING = object()
