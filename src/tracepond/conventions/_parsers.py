"""Value parsers named by the tables: each turns one raw attribute value into a field value.

A parser returns None when the value is unusable; the next source in precedence order is then
tried. Factories (``key``, ``kind``, ``const``, ``alias``) build parsers from table data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tracepond.conventions._coerce import jsonish, mapping, string_list, structured, to_float
from tracepond.conventions._coerce import to_int as count
from tracepond.conventions._coerce import to_str as text

Parser = Callable[[Any], Any]

__all__ = [
    "Parser",
    "alias",
    "const",
    "count",
    "dict_value",
    "key",
    "kind",
    "model_name",
    "number",
    "plain",
    "struct",
    "tags",
    "text",
]

number = to_float
plain = jsonish
struct = structured
dict_value = mapping
tags = string_list


def memoized(parse: Parser) -> Parser:
    """Cache a string parser's results: model, provider and kind values repeat on every span."""
    memo: dict[str, Any] = {}

    def cached(value: Any) -> Any:
        if type(value) is not str:
            return parse(value)
        try:
            return memo[value]
        except KeyError:
            result = parse(value)
            if len(memo) < _MEMO_LIMIT and len(value) <= _MEMO_CHARS:
                memo[value] = result
            return result

    return cached


# Bounded: distinct model/provider/kind spellings are few; past the limit values are parsed
# uncached rather than evicting.
_MEMO_LIMIT = 4096
_MEMO_CHARS = 256


def _model_name(value: Any) -> Any:
    name = text(value)
    return None if name is None or name.lower() in _NO_MODEL else name


_NO_MODEL = frozenset({"unknown", "none", "null", "undefined"})
# A model name; placeholders that instrumentations write when they know none are absent.
model_name = memoized(_model_name)


def key(*names: str, conv: Parser = count) -> Parser:
    """Read the first present ``names`` entry of a map-valued attribute (JSON, kvlist or repr).

    Not memoized: token maps differ on every span. The parsed map is shared through the small
    text cache in ``_coerce`` instead, so the several fields reading one map parse it once.
    """

    def parse(value: Any) -> Any:
        found = _map_of(value)
        if found is None:
            return None
        for name in names:
            if name in found:
                result = conv(found[name])
                if result is not None:
                    return result
        return None

    return parse


# The last map parsed by ``key`` parsers, by identity: the five usage fields of one span read
# the same attribute value one after the other, so this one-entry cache parses it once. It
# holds a strong reference, so the identity cannot be reused by another object.
_last_map: tuple[Any, dict[str, Any] | None] = (None, None)


def _map_of(value: Any) -> dict[str, Any] | None:
    global _last_map
    last_value, last_map = _last_map
    if value is last_value:
        return last_map
    found = mapping(value, shared=True)
    _last_map = (value, found)
    return found


def kind(table: Mapping[str, str]) -> Parser:
    """Map a kind/type/operation value to a category, case-insensitively; unknown values -> None."""

    def parse(value: Any) -> Any:
        name = text(value)
        return None if name is None else table.get(name.lower())

    return memoized(parse)


def const(result: str) -> Parser:
    """Presence hint: any non-empty value means ``result``."""

    def parse(value: Any) -> Any:
        return None if value is None or value == "" else result

    return parse


def alias(table: Mapping[str, str | None]) -> Parser:
    """Canonical spelling through an alias table; a table value of None rejects the value."""

    def parse(value: Any) -> Any:
        name = text(value)
        if name is None:
            return None
        lowered = name.lower()
        return table.get(lowered, lowered)

    return memoized(parse)
