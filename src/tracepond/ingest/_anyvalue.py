"""OTLP AnyValue / KeyValue -> plain Python values that serialize to JSON as they are.

Strings, bools, ints and doubles map to themselves; arrays to lists; kvlists to dicts; bytes to
``{"bytesValue": "<base64>"}`` (the OTLP/JSON spelling) so that they survive a JSON column and can
be told apart from strings on export; NaN and ±Infinity doubles to "NaN"/"Infinity"/"-Infinity"
(proto3 JSON), since JSON has no spelling for them. Strings longer than the configured limit (in
UTF-8 bytes) are cut, and the caller learns which keys were cut so that the span can say so.

This runs for every attribute of every span, so it is written for speed: ``ListFields()`` hands
back the one set oneof member and its value in a single C call.
"""

from __future__ import annotations

import base64
from math import isfinite
from typing import Any

TRUNCATION_MARK = "…[truncated by tracepond]"

# AnyValue field numbers (opentelemetry/proto/common/v1/common.proto).
_STRING, _BOOL, _INT, _DOUBLE, _ARRAY, _KVLIST, _BYTES = 1, 2, 3, 4, 5, 6, 7


class AttributeDecoder:
    """Decodes attribute lists, truncating over-long strings at ``max_string_bytes``."""

    __slots__ = ("_max_bytes", "_max_chars")

    def __init__(self, max_string_bytes: int) -> None:
        self._max_bytes = max_string_bytes
        # A UTF-8 character takes at most 4 bytes, so a string of at most limit/4 characters
        # fits for sure: the hot path is one len(); only longer strings are encoded and measured.
        self._max_chars = max_string_bytes // 4

    def attributes(self, key_values: Any, truncated: list[str]) -> dict[str, Any]:
        """Decode a repeated KeyValue. Later duplicates of a key win, as in the OTel SDK."""
        out: dict[str, Any] = {}
        limit = self._max_chars
        for kv in key_values:
            fields = kv.value.ListFields()
            if not fields:
                out[kv.key] = None
                continue
            field, value = fields[0]
            number = field.number
            if number == _STRING:
                if len(value) > limit:
                    value = self._fit(value, kv.key, truncated)
                out[kv.key] = value
            elif number < _DOUBLE:
                out[kv.key] = value
            elif number == _DOUBLE:
                out[kv.key] = value if isfinite(value) else _non_finite(value)
            else:
                out[kv.key] = self._composite(number, value, kv.key, truncated)
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
        encoded = text.encode("utf-8", "surrogatepass")
        if len(encoded) <= self._max_bytes:
            return text
        truncated.append(key)
        # Cut at the byte limit, dropping a character split in half.
        kept = encoded[: self._max_bytes].decode("utf-8", "ignore")
        return kept + TRUNCATION_MARK

    def _composite(self, number: int, value: Any, key: str, truncated: list[str]) -> Any:
        if number == _ARRAY:
            return [self.value(item, key, truncated) for item in value.values]
        if number == _KVLIST:
            # A cut inside a kvlist is reported under the attribute's own key, as for arrays.
            inner: list[str] = []
            decoded = self.attributes(value.values, inner)
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


def _non_finite(value: float) -> str:
    # JSON has no NaN or Infinity; proto3's JSON mapping spells them as these strings.
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"
