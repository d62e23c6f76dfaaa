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
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
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


# Values JSON-safe as they are (floats only when finite: NaN and infinities are not JSON).
_FLAT = frozenset((str, int, bool, float, type(None)))


def _no_default(value: Any) -> Any:
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# `json.dumps(value, ensure_ascii=False)` for flat values without what json.dumps does per call
# when given any option (build an encoder): the C encoder is made once, with no cycle check
# (a flat value has none). None where the interpreter lacks the accelerator.
_dumps_c = (
    c_make_encoder(None, _no_default, encode_basestring, None, ": ", ", ", False, False, True)
    if c_make_encoder is not None
    else None
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def flat_json(value: Any, max_chars: int) -> str | None:
    """JSON text of a flat value (a scalar, or a dict of scalars under string keys), cut at
    `max_chars` as `to_json` cuts; None when the value is not flat. The common case of
    `@trace` outputs, at a fraction of the cost of the general walk."""
    cls = type(value)
    if cls is str:
        text = encode_basestring(value)
    elif cls is int:
        text = int.__repr__(value)
    elif cls is dict:
        for key, item in value.items():
            item_cls = type(item)
            if type(key) is not str or item_cls not in _FLAT:
                return None
            if item_cls is float and item - item != 0.0:
                return None
        text = "".join(_dumps_c(value, 0)) if _dumps_c is not None else _dumps(value)
    elif cls in _FLAT:
        if cls is float and value - value != 0.0:
            return None
        text = "".join(_dumps_c(value, 0)) if _dumps_c is not None else _dumps(value)
    else:
        return None
    return text if len(text) <= max_chars else _cut(text, max_chars)


def flat_arguments_json(arguments: dict[str, Any], max_chars: int) -> str | None:
    """`to_json(arguments_jsonable(arguments))` when that walk would change nothing (flat
    values, strings within the limit, no redaction asked by the caller); else None."""
    if len(arguments) > _MAX_ITEMS:
        return None
    for item in arguments.values():
        cls = type(item)
        if cls not in _FLAT:
            return None
        if cls is str:
            if len(item) > max_chars:
                return None
        elif cls is float and item - item != 0.0:
            return None
    text = "".join(_dumps_c(arguments, 0)) if _dumps_c is not None else _dumps(arguments)
    return text if len(text) <= max_chars else _cut(text, max_chars)


def to_json(value: Any, *, redact: Collection[str] = (), max_chars: int = 8192) -> str:
    """JSON text for `value`, at most about `max_chars` long; never raises.

    A result over the limit is cut and marked, so it is then no longer valid JSON: the mark says
    how much was dropped.
    """
    if not redact:  # fast path: per-call overhead of @trace matters
        text = flat_json(value, max_chars)
        if text is not None:
            return text
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
