"""OTLP AnyValue / KeyValue -> plain Python values that serialize to JSON as they are.

Strings, bools, ints and doubles map to themselves; arrays to lists; kvlists to dicts; bytes to
``{"bytesValue": "<base64>"}`` (the OTLP/JSON spelling) so that they survive a JSON column and can
be told apart from strings on export; NaN and ±Infinity doubles to "NaN"/"Infinity"/"-Infinity"
(proto3 JSON), since JSON has no spelling for them. Strings longer than the configured limit (in
UTF-8 bytes) are cut, as are over-long keys and over-long arrays and kvlists (``_limits``), and
the caller learns which keys were cut so that the span can say so.

This runs for every attribute of every span, so it is written for speed: ``ListFields()`` hands
back the one set oneof member and its value in a single C call.
"""

from __future__ import annotations

import base64
from math import isfinite
from typing import Any

from tracepond.ingest._limits import TRUNCATION_MARK, Marker, SpanLimits

# AnyValue field numbers (opentelemetry/proto/common/v1/common.proto).
_STRING, _BOOL, _INT, _DOUBLE, _ARRAY, _KVLIST, _BYTES = 1, 2, 3, 4, 5, 6, 7


def cut(text: str, max_bytes: int) -> str | None:
    """``text`` cut to ``max_bytes`` UTF-8 bytes plus TRUNCATION_MARK, or None if it fits."""
    if len(text) * 4 <= max_bytes:  # a character takes at most 4 bytes: fits for sure
        return None
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_bytes:
        return None
    # Cut at the byte limit, dropping a character split in half.
    return encoded[:max_bytes].decode("utf-8", "ignore") + TRUNCATION_MARK


class AttributeDecoder:
    """Decodes attribute lists within ``SpanLimits``: over-long strings, keys and containers
    are cut, and the caller learns which keys were cut so that the span can say so."""

    __slots__ = ("_max_bytes", "_max_chars", "_max_items", "_max_key_bytes", "_max_key_chars")

    def __init__(self, limits: SpanLimits) -> None:
        self._max_bytes = limits.max_value_bytes
        self._max_key_bytes = limits.max_name_bytes
        self._max_items = limits.max_array_items
        # A UTF-8 character takes at most 4 bytes, so a string of at most limit/4 characters
        # fits for sure: the hot path is one len(); only longer strings are encoded and measured.
        self._max_chars = limits.max_value_bytes // 4
        self._max_key_chars = limits.max_name_bytes // 4

    def attributes(self, key_values: Any, truncated: list[str]) -> dict[str, Any]:
        """Decode a repeated KeyValue. Later duplicates of a key win, as in the OTel SDK."""
        out: dict[str, Any] = {}
        limit = self._max_chars
        key_limit = self._max_key_chars
        for kv in key_values:
            key = kv.key
            if len(key) > key_limit:
                key = self._fit_key(key, truncated)
            fields = kv.value.ListFields()
            if not fields:
                out[key] = None
                continue
            field, value = fields[0]
            number = field.number
            if number == _STRING:
                if len(value) > limit:
                    value = self._fit(value, key, truncated)
                out[key] = value
            elif number < _DOUBLE:
                out[key] = value
            elif number == _DOUBLE:
                out[key] = value if isfinite(value) else _non_finite(value)
            else:
                out[key] = self._composite(number, value, key, truncated)
        return out

    def value(self, any_value: Any, key: str, truncated: list[str]) -> Any:
        fields = any_value.ListFields()
        if not fields:
            return None
        field, value = fields[0]
        number = field.number
        if number == _STRING:
            return self._fit(value, key, truncated) if len(value) > self._max_chars else value
        if number < _DOUBLE:
            return value
        if number == _DOUBLE:
            return value if isfinite(value) else _non_finite(value)
        return self._composite(number, value, key, truncated)

    def _fit(self, text: str, key: str, truncated: list[str]) -> str:
        kept = cut(text, self._max_bytes)
        if kept is None:
            return text
        truncated.append(key)
        return kept

    def _fit_key(self, key: str, truncated: list[str]) -> str:
        kept = cut(key, self._max_key_bytes)
        if kept is None:
            return key
        truncated.append(kept)  # the cut key as stored: it ends with TRUNCATION_MARK
        return kept

    def _composite(self, number: int, value: Any, key: str, truncated: list[str]) -> Any:
        if number == _ARRAY:
            items = value.values
            if len(items) > self._max_items:
                truncated.append(key)
                items = items[: self._max_items]
            return [self.value(item, key, truncated) for item in items]
        if number == _KVLIST:
            # A cut inside a kvlist is reported under the attribute's own key, as for arrays.
            entries = value.values
            inner: list[str] = []
            if len(entries) > self._max_items:
                inner.append(key)
                entries = entries[: self._max_items]
            decoded = self.attributes(entries, inner)
            if inner:
                truncated.append(key)
            return decoded
        if number == _BYTES:
            raw: bytes = value
            if len(raw) > self._max_bytes:
                truncated.append(key)
                raw = raw[: self._max_bytes]
            return {"bytesValue": base64.b64encode(raw).decode("ascii")}
        return None


def limited_map(
    decoder: AttributeDecoder, key_values: Any, max_attributes: int, truncated: list[str]
) -> tuple[dict[str, Any], int]:
    """An attribute map of at most ``max_attributes`` entries (its first ones), and how many
    were dropped; each dropped key is listed as ``dropped:<key>``."""
    over = len(key_values) - max_attributes
    if over <= 0:
        return decoder.attributes(key_values, truncated), 0
    kept = key_values[:max_attributes]
    truncated.extend(Marker.DROPPED + kv.key for kv in key_values[max_attributes:])
    return decoder.attributes(kept, truncated), over


def _non_finite(value: float) -> str:
    # JSON has no NaN or Infinity; proto3's JSON mapping spells them as these strings.
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
