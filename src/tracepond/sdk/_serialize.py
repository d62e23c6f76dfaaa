"""Turn arbitrary Python values into bounded JSON text, without ever raising.

Values cross into span attributes, so the conversion must cope with anything a user passes:
dataclasses, pydantic models, numpy/pandas objects (detected by duck typing, so neither is
imported), cycles, huge containers and objects whose `repr` itself fails.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Collection, Mapping
from typing import Any

logger = logging.getLogger("tracepond")

REDACTED = "[REDACTED]"
# Limits on the walk itself, so a huge argument costs bounded time before any truncation.
_MAX_DEPTH = 8
_MAX_ITEMS = 200
_TRUNCATION_MARK = "...[truncated {} chars]"


class _Walker:
    """One conversion: carries the redaction set, string budget and the cycle guard."""

    def __init__(self, redact: Collection[str], max_chars: int) -> None:
        self.redact = redact
        self.max_chars = max_chars
        self.active: set[int] = set()

    def walk(self, value: Any, depth: int) -> Any:
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else str(value)
        if isinstance(value, str):
            return _cut(value, self.max_chars)
        if depth >= _MAX_DEPTH:
            return _safe_repr(value, self.max_chars)
        if id(value) in self.active:
            return "<cycle>"
        self.active.add(id(value))
        try:
            return self._walk_container(value, depth + 1)
        finally:
            self.active.discard(id(value))

    def _walk_container(self, value: Any, depth: int) -> Any:
        if isinstance(value, Mapping):
            return self.walk_mapping(value, depth)
        if isinstance(value, list | tuple | set | frozenset):
            return self._walk_sequence(value, depth)
        if isinstance(value, bytes | bytearray | memoryview):
            return f"<{type(value).__name__} len={len(value)}>"
        converted = _convert_known(value)
        if converted is not _UNKNOWN:
            return self.walk(converted, depth)
        return _safe_repr(value, self.max_chars)

    def walk_mapping(self, value: Mapping[Any, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= _MAX_ITEMS:
                out["..."] = f"{len(value) - _MAX_ITEMS} more"
                break
            name = key if isinstance(key, str) else _safe_repr(key, 200)
            out[name] = REDACTED if name.lower() in self.redact else self.walk(item, depth)
        return out

    def _walk_sequence(self, value: Collection[Any], depth: int) -> list[Any]:
        out: list[Any] = []
        for index, item in enumerate(value):
            if index >= _MAX_ITEMS:
                out.append(f"...{len(value) - _MAX_ITEMS} more")
                break
            out.append(self.walk(item, depth))
        return out


_UNKNOWN = object()


def _convert_known(value: Any) -> Any:
    """Dataclasses, pydantic, numpy and pandas to plain containers; _UNKNOWN otherwise."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    module = type(value).__module__.partition(".")[0]
    if hasattr(value, "model_dump") and not isinstance(value, type):
        # pydantic v2 models, LangChain messages and documents included.
        return _model_dump(value)
    if module == "numpy":
        if hasattr(value, "ndim") and value.ndim > 0:
            return (
                value.ravel()[:_MAX_ITEMS].tolist() if value.size > _MAX_ITEMS else value.tolist()
            )
        return value.item() if hasattr(value, "item") else _UNKNOWN
    if module == "pandas":
        if hasattr(value, "to_dict") and hasattr(value, "head"):
            head = value.head(_MAX_ITEMS)
            return head.to_dict(orient="records") if value.ndim == 2 else head.to_dict()
        if hasattr(value, "isoformat"):
            return value.isoformat()
    if hasattr(value, "isoformat") and callable(value.isoformat):
        return value.isoformat()  # datetime, date, time
    return _UNKNOWN


def _model_dump(value: Any) -> Any:
    try:
        return value.model_dump(mode="json")
    except Exception:  # a field pydantic cannot encode: take the python form, walked by us
        try:
            return value.model_dump()
        except Exception:
            return _UNKNOWN


def _safe_repr(value: Any, max_chars: int) -> str:
    try:
        return _cut(repr(value), max_chars)
    except Exception:  # a broken __repr__ must not break the caller
        return f"<unrepresentable {type(value).__name__}>"


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + _TRUNCATION_MARK.format(len(text) - max_chars)


def to_jsonable(value: Any, *, redact: Collection[str] = (), max_chars: int = 8192) -> Any:
    """A JSON-compatible copy of `value`; never raises (falls back to a placeholder)."""
    try:
        return _Walker(redact, max_chars).walk(value, 0)
    except Exception:
        logger.debug("tracepond: could not convert %s", type(value).__name__, exc_info=True)
        return _safe_repr(value, max_chars)


_SCALARS = (str, int, bool, type(None))


def _is_flat(value: Any) -> bool:
    """Scalars, or a dict of scalars with string keys: JSON-safe as is (the common case)."""
    if type(value) in _SCALARS:
        return True
    return type(value) is dict and all(
        type(k) is str and type(v) in _SCALARS for k, v in value.items()
    )


def to_json(value: Any, *, redact: Collection[str] = (), max_chars: int = 8192) -> str:
    """JSON text for `value`, at most about `max_chars` long; never raises.

    A result over the limit is cut and marked, so it is then no longer valid JSON: the mark says
    how much was dropped.
    """
    if not redact and _is_flat(value):  # fast path: per-call overhead of @trace matters
        return _cut(json.dumps(value, ensure_ascii=False), max_chars)
    try:
        text = json.dumps(
            to_jsonable(value, redact=redact, max_chars=max_chars), ensure_ascii=False
        )
    except Exception:
        logger.debug("tracepond: could not encode %s", type(value).__name__, exc_info=True)
        text = json.dumps(_safe_repr(value, max_chars))
    return _cut(text, max_chars)


def arguments_jsonable(
    arguments: Mapping[str, Any], *, redact: Collection[str] = (), max_chars: int = 8192
) -> dict[str, Any]:
    """Bound call arguments as a JSON-able dict, redacting by argument name too."""
    try:
        return _Walker(redact, max_chars).walk_mapping(arguments, 0)
    except Exception:
        logger.debug("tracepond: could not convert arguments", exc_info=True)
        return {"<arguments>": _safe_repr(arguments, max_chars)}
