"""Defensive value coercion shared by every convention.

Producers send numbers as ints, doubles, decimal strings (OTLP/JSON int64) or JSON-quoted strings
(MLflow), and structures as JSON text, Python ``repr`` text (LangSmith) or native OTLP arrays and
kvlists. Every function here returns ``None`` when a value cannot be read, and never raises: a
value that fails to parse leaves its field empty instead of failing the span.
"""

from __future__ import annotations

import ast
import math
import sys
from collections import deque
from collections.abc import Callable
from functools import lru_cache
from typing import Any

_json_loads: Callable[[str], Any]
try:  # orjson (server extra) parses ~2x faster; the stdlib keeps the module importable without it
    from orjson import loads as _json_loads
except ImportError:  # pragma: no cover - exercised only in SDK-only installs
    from json import loads as _json_loads

REDACTED = "__REDACTED__"
_NEEDS_WORK = frozenset('" \t\r\n')
_REDACTED_FORMS = frozenset({REDACTED, '"__REDACTED__"'})
REDACTED_LENGTHS = frozenset(len(form) for form in _REDACTED_FORMS)

# JSON/repr text longer than this is not worth parsing for a scalar or a small map; it also bounds
# the work ast.literal_eval can be made to do.
_MAX_REPR_CHARS = 20_000
# Short JSON texts (token-usage and cost maps) are read by several fields of the same span, and
# repeat across spans; a small cache makes that one parse. Longer texts are parsed uncached.
_CACHE_CHARS = 512
# Counts are stored as signed 64-bit integers: a larger count (a producer's bug, or a hostile
# value) is saturated to this, so that it can be stored and summed, instead of failing the span.
INT64_MAX = 2**63 - 1
# The largest finite double: sums of finite costs saturate here instead of becoming infinite.
FLOAT_MAX = sys.float_info.max


def to_int(value: Any) -> int | None:
    """A non-negative integer count, from int, float, decimal or JSON-quoted string; counts
    beyond int64 are saturated to INT64_MAX."""
    if type(value) is int:
        return (value if value <= INT64_MAX else INT64_MAX) if value >= 0 else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not (math.isfinite(value) and value >= 0):
            return None
        return int(value) if value < _INT64_LIMIT else INT64_MAX
    if isinstance(value, str):
        return _str_to_int(value)
    return None


# 2**63 as a double: every double below it converts to an int64.
_INT64_LIMIT = float(2**63)


def saturating_add(left: int, right: int) -> int:
    """``left + right`` for non-negative counts, saturated at INT64_MAX."""
    total = left + right
    return total if total <= INT64_MAX else INT64_MAX


def finite_sum(left: float, right: float) -> float:
    """``left + right``, kept finite: two huge finite costs saturate instead of overflowing."""
    total = left + right
    if math.isfinite(total):
        return total
    return FLOAT_MAX if total > 0 else -FLOAT_MAX


def _str_to_int(text: str) -> int | None:
    text = text.strip().strip('"')
    if not text or len(text) > 40:
        return None
    try:
        return to_int(int(text))
    except ValueError:
        pass
    try:
        return to_int(float(text))
    except ValueError:
        return None


def to_float(value: Any) -> float | None:
    """A finite float, from int, float, decimal or JSON-quoted string."""
    if type(value) is float:  # the common case; float(value) would be value itself
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None
    if isinstance(value, str):
        text = value.strip().strip('"')
        if not text or len(text) > 60:
            return None
        try:
            return to_float(float(text))
        except ValueError:
            return None
    return None


def to_str(value: Any) -> str | None:
    """A non-empty string; MLflow's JSON-quoted scalars (``"\\"gpt-4o\\""``) are unquoted."""
    # Fast path: the common clean value needs no copy.
    if (
        type(value) is str
        and value
        and value[0] not in _NEEDS_WORK
        and value[-1] not in _NEEDS_WORK
    ):
        return value
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            inner = loads(value)
            value = inner if isinstance(inner, str) else value
        value = value.strip()
        return value or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return None


def loads(text: str) -> Any:
    """``json.loads`` that returns None instead of raising."""
    if len(text) <= _CACHE_CHARS:
        return _loads_cached(text)
    return _loads(text)


@lru_cache(maxsize=2048)
def _loads_cached(text: str) -> Any:
    # Callers must treat the result as read-only: it is shared through the cache.
    return _loads(text)


def _loads(text: str) -> Any:
    try:
        decoded = _json_loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    _recent.append((text, decoded))
    return decoded


# The last texts decoded, with their values. The stored view (conventions._stored) checks its
# references against the very attribute values that normalization decoded a moment before;
# matched by identity, they need no second parse. Sound because decoded values are never
# modified in place (small ones are shared through the cache above). A deque of pairs: appends
# and the snapshot in ``decode_again`` are atomic, so threads cannot mismatch a text and value.
_recent: deque[tuple[str, Any]] = deque(maxlen=8)


def decode_again(text: str) -> Any:
    """``jsonish(text)``, from the recent decodes when ``text`` is one of them."""
    if text.lstrip()[:1] in _JSONISH_HEADS:
        for seen, decoded in tuple(_recent):
            if seen is text and decoded is not None:
                return decoded
    return jsonish(text)


_JSONISH_HEADS = ("{", "[", '"')


def jsonish(value: Any) -> Any:
    """A plain value: JSON text that looks like an object, array or quoted string is decoded.

    Text that is not JSON stays text (``input.value="What is X?"``), so nothing is lost; only
    ``{``, ``[`` and ``"`` openers are tried, because ``"42"`` as free text should stay text.
    """
    if isinstance(value, str):
        if value.lstrip()[:1] in _JSONISH_HEADS:
            decoded = _loads(value)
            if decoded is not None:
                return decoded
        return value
    return value


def structured(value: Any) -> Any:
    """A dict or list from a native OTLP kvlist/array or from JSON text; else None."""
    if isinstance(value, (dict, list)):
        return value
    # Only JSON objects and arrays qualify (what jsonish would decode to a dict or list).
    if isinstance(value, str) and value.lstrip()[:1] in _CONTAINER_HEADS:
        decoded = _loads(value)
        if isinstance(decoded, (dict, list)):
            return decoded
    return None


_CONTAINER_HEADS = ("{", "[")


def mapping(value: Any, shared: bool = False) -> dict[str, Any] | None:
    """A dict from a kvlist, JSON text or (LangSmith) Python ``repr`` text; else None.

    ``shared=True`` may return a cached object: only for callers that read scalars out of it.
    """
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    head = value.lstrip()[:1]
    if head != "{" and head != '"':
        return None
    load = loads if shared else _loads
    decoded = load(value)
    if isinstance(decoded, str):  # MLflow: a JSON-quoted JSON object
        decoded = load(decoded) if decoded.lstrip()[:1] == "{" else None
    elif decoded is None and head == "{":  # LangSmith: Python str(dict), not JSON
        decoded = _literal(value, shared)
    return decoded if isinstance(decoded, dict) else None


def _literal(text: str, shared: bool) -> Any:
    if len(text) > _MAX_REPR_CHARS:
        return None
    if shared and len(text) <= _CACHE_CHARS:
        return _literal_cached(text)
    return _literal_eval(text)


@lru_cache(maxsize=1024)
def _literal_cached(text: str) -> Any:
    # Token-detail reprs repeat across spans and literal_eval compiles: cache them (read-only).
    return _literal_eval(text)


def _literal_eval(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def string_list(value: Any) -> list[str] | None:
    """Tags: a native string array, a JSON array, or a comma-joined string (LangSmith)."""
    if isinstance(value, str):
        decoded = loads(value) if value.lstrip()[:1] == "[" else None
        value = decoded if isinstance(decoded, list) else value.split(",")
    if not isinstance(value, list):
        return None
    out = [item.strip() for item in value if isinstance(item, str) and item.strip()]
    return out or None


def is_redacted(value: Any) -> bool:
    # Length first: message texts can be long, and a set lookup would hash the whole text.
    return isinstance(value, str) and len(value) in REDACTED_LENGTHS and value in _REDACTED_FORMS
