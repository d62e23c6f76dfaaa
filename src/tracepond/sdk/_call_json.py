"""A call's input as JSON text, written straight from its positional arguments.

`@trace` records every call's bound arguments as JSON. Binding them into a dict and then
encoding the dict was the largest part of what capture adds to a call (bench/README.md, "SDK
overhead"). For the commonest call (positional arguments only, a signature of plain parameters,
values that are JSON scalars) the text can be written from the arguments directly: the
parameter names' JSON is written once, when the function is decorated, and so is the JSON of
scalar defaults. Anything else returns None and takes the general path. The text is the one
the general path writes (tests/sdk/test_fast_paths.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from tracepond.sdk._serialize import _cut

# The general path's walk caps a mapping at this many items; beyond it, leave it the work.
_MAX_ITEMS = 200
_MISSING = object()


def _scalar(value: Any, max_chars: int) -> str | None:
    """JSON of a value the walk leaves unchanged, written as `json.dumps` writes it; None for
    anything else (containers, objects, non-finite floats, strings the walk would cut)."""
    cls = type(value)
    if cls is str:
        return encode_basestring(value) if len(value) <= max_chars else None  # type: ignore[no-any-return]
    if cls is int:
        return int.__repr__(value)
    if cls is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if cls is float and value - value == 0.0:  # finite: NaN and infinities are not JSON
        return float.__repr__(value)
    return None


class PositionalJson:
    """Writes `{"name": value, ...}` for positional calls of one plain signature."""

    __slots__ = ("_defaults", "_names", "_offset", "_prefixes", "_tails")

    def __init__(self, names: tuple[str, ...], defaults: Mapping[str, Any], skip_first: bool):
        self._names = names
        self._defaults = defaults
        # `self`/`cls` is passed but not recorded: positions start after it.
        self._offset = 1 if skip_first else 0
        shown = names[self._offset :]
        self._prefixes = tuple(
            ("{" if index == 0 else ", ") + encode_basestring(name) + ": "
            for index, name in enumerate(shown)
        )
        # The defaults' JSON by how many arguments were given, once per max_chars in use.
        self._tails: dict[int, tuple[str | None, ...]] = {}

    @classmethod
    def for_signature(
        cls, names: tuple[str, ...] | None, defaults: Mapping[str, Any] | None, skip_first: bool
    ) -> PositionalJson | None:
        if names is None or defaults is None or len(names) - skip_first > _MAX_ITEMS:
            return None
        return cls(names, defaults, skip_first)

    def text(self, args: tuple[Any, ...], max_chars: int) -> str | None:
        """The JSON text, cut at `max_chars` as the general path cuts; None when the call or
        one of its values needs the general path."""
        given = len(args)
        tails = self._tails.get(max_chars)
        if tails is None:
            tails = self._tails[max_chars] = self._default_tails(max_chars)
        if given >= len(tails):
            return None
        tail = tails[given]
        if tail is None:
            return None
        prefixes, offset = self._prefixes, self._offset
        parts: list[str] = []
        for index in range(offset, given):
            value = _scalar(args[index], max_chars)
            if value is None:
                return None
            parts.append(prefixes[index - offset])
            parts.append(value)
        if not prefixes:
            return "{}"
        parts.append(tail)
        text = "".join(parts)
        return text if len(text) <= max_chars else _cut(text, max_chars)

    def _default_tails(self, max_chars: int) -> tuple[str | None, ...]:
        """For each count of given arguments: the JSON of the defaults after them and the
        closing brace; None where the call cannot be written here (fewer arguments than
        `self` needs, a required argument missing, a default that is not a scalar)."""
        offset = self._offset
        counts = range(len(self._names) + 1)
        return tuple(self._tail(given, max_chars) if given >= offset else None for given in counts)

    def _tail(self, given: int, max_chars: int) -> str | None:
        pieces: list[str] = []
        for index in range(given, len(self._names)):
            default = self._defaults.get(self._names[index], _MISSING)
            text = None if default is _MISSING else _scalar(default, max_chars)
            if text is None:
                return None
            pieces += (self._prefixes[index - self._offset], text)
        pieces.append("}")
        return "".join(pieces)
