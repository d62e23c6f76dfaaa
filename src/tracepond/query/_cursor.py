"""Search cursors: the keyset of the last row plus the snapshot time, opaque to clients."""

from __future__ import annotations

import base64
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
        valid = isinstance(body["v"], int | float) and len(position.after) == (
            3 if what == "spans" else 2
        )
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidRequest(f"invalid cursor {text!r}: pass next_cursor unchanged") from exc
    if not valid or (position.what, position.sort, position.descending) != (what, sort, descending):
        raise InvalidRequest(
            "cursor does not belong to this search (sort, order or endpoint changed); start again"
            " without cursor"
        )
    return position
