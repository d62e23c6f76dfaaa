"""OTLP AnyValue / KeyValue -> plain Python values that serialize to JSON as they are.

Strings, bools, ints and doubles map to themselves; arrays to lists; kvlists to dicts; bytes to
``{"bytesValue": "<base64>"}`` (the OTLP/JSON spelling) so that they survive a JSON column and can
be told apart from strings on export. Strings longer than the configured limit are cut, and the
caller learns which keys were cut so that the span can say so.
"""

from __future__ import annotations

import base64
from typing import Any

TRUNCATION_MARK = "…[truncated by tracepond]"


class AttributeDecoder:
    """Decodes attribute lists, truncating over-long strings at ``max_string_bytes``."""

    __slots__ = ("_max_chars",)

    def __init__(self, max_string_bytes: int) -> None:
        # A UTF-8 character is at most 4 bytes, so comparing lengths in characters against the
        # byte limit is exact for ASCII and never cuts text that fits. It keeps the hot path to
        # one len() per string.
        self._max_chars = max_string_bytes

    def attributes(self, key_values: Any, truncated: list[str]) -> dict[str, Any]:
        """Decode a repeated KeyValue. Later duplicates of a key win, as in the OTel SDK."""
        out: dict[str, Any] = {}
        limit = self._max_chars
        for kv in key_values:
            value = kv.value
            which = value.WhichOneof("value")
            if which == "string_value":
                text = value.string_value
                if len(text) > limit:
                    text = text[:limit] + TRUNCATION_MARK
                    truncated.append(kv.key)
                out[kv.key] = text
            elif which is None:
                out[kv.key] = None
            else:
                out[kv.key] = self._value(value, which, kv.key, truncated)
        return out

    def _value(self, value: Any, which: str, key: str, truncated: list[str]) -> Any:
        if which == "string_value":
            text: str = value.string_value
            if len(text) > self._max_chars:
                truncated.append(key)
                return text[: self._max_chars] + TRUNCATION_MARK
            return text
        if which == "int_value" or which == "bool_value" or which == "double_value":
            return getattr(value, which)
        if which == "array_value":
            return [self._value(v, v.WhichOneof("value"), key, truncated) for v in value.array_value.values]
        if which == "kvlist_value":
            return self.attributes(value.kvlist_value.values, truncated)
        if which == "bytes_value":
            raw: bytes = value.bytes_value
            if len(raw) > self._max_chars:
                truncated.append(key)
                raw = raw[: self._max_chars]
            return {"bytesValue": base64.b64encode(raw).decode("ascii")}
        return None
