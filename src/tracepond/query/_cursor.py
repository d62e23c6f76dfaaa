"""Search cursors: the keyset of the last row plus the snapshot time, opaque to clients."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

import orjson

from tracepond.errors import InvalidRequest


@dataclass(frozen=True)
class Position:
    what: str  # "traces" | "spans" (a cursor of one is not valid for the other)
    sort: str
    descending: bool
    after: tuple[Any, ...]
    as_of: int


def encode(position: Position) -> str:
    sort_value, *ids = position.after
    body = {
        "w": position.what,
        "s": position.sort,
        "d": position.descending,
        "v": sort_value,
        "i": [i.hex() for i in ids],
        "a": position.as_of,
    }
    return base64.urlsafe_b64encode(orjson.dumps(body)).decode().rstrip("=")


def decode(text: str, what: str, sort: str, descending: bool) -> Position:
    try:
        body = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        position = Position(
            body["w"],
            body["s"],
            bool(body["d"]),
            (body["v"], *map(bytes.fromhex, body["i"])),
            int(body["a"]),
        )
        valid = _storable(body["v"], sort) and _valid_ids(position.after[1:], what)
        valid = valid and _int64(body["a"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidRequest(f"invalid cursor {text!r}: pass next_cursor unchanged") from exc
    if not valid or (position.what, position.sort, position.descending) != (what, sort, descending):
        raise InvalidRequest(
            "cursor does not belong to this search (sort, order or endpoint changed); start again"
            " without cursor"
        )
    return position


def _int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _storable(value: object, sort: str) -> bool:
    """A sort value the store's column can hold: a finite float for cost, int64 for the rest
    (a forged 1e300 would otherwise reach SQL and overflow there)."""
    if sort == "cost":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (math.isfinite(value) if isinstance(value, float) else _int64(value))
        )
    return _int64(value)


def _valid_ids(ids: tuple[bytes, ...], what: str) -> bool:
    """A trace id (16 bytes), and for spans a span id (8 bytes) after it."""
    return [len(i) for i in ids] == ([16, 8] if what == "spans" else [16])
