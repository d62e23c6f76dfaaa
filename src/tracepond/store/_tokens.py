"""Page tokens: the position after a page's last row, encoded for callers that must not read it.

Engine-neutral: a position is made of values every store has (sort values, ids, ingest times),
so each store encodes its own with these functions. The encodings are those the HTTP API has
always handed out as ``next_cursor`` (unpadded URL-safe base64), so cursors of a page fetched
before an upgrade still work after it. A token that was not made here, or was made for another
read (another endpoint, sort or order), is refused with ``InvalidRequest`` (HTTP 400).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

import orjson

from tracepond.errors import InvalidRequest
from tracepond.model.records import PageToken, SearchRequest

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8
_MISMATCH = (
    "cursor does not belong to this search (sort, order or endpoint changed); start again"
    " without cursor"
)


def _invalid(token: str) -> InvalidRequest:
    return InvalidRequest(f"invalid cursor {token!r}: pass next_cursor unchanged")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


# -- search pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPosition:
    """Where a search page starts: after the row of keyset ``after`` (sort value, *ids), within
    the snapshot ``as_of``; both None on a first page (``as_of`` then the request's own)."""

    after: tuple[Any, ...] | None
    as_of: int | None


def search_position(request: SearchRequest, what: str) -> SearchPosition:
    """The position ``request.after`` encodes; ``what``: "traces" or "spans". An explicit
    ``request.as_of`` wins over the token's snapshot."""
    if request.after is None:
        return SearchPosition(None, request.as_of)
    after, as_of = _decode_search(request.after, what, request.sort, request.descending)
    return SearchPosition(after, request.as_of if request.as_of is not None else as_of)


def search_token(
    request: SearchRequest, what: str, after: tuple[Any, ...] | None, as_of: int
) -> PageToken | None:
    """The token of the position after keyset ``after`` (None: no further page)."""
    if after is None:
        return None
    sort_value, *ids = after
    body = {
        "w": what,
        "s": request.sort,
        "d": request.descending,
        "v": sort_value,
        "i": [i.hex() for i in ids],
        "a": as_of,
    }
    return PageToken(_b64(orjson.dumps(body)))


def _decode_search(
    token: str, what: str, sort: str, descending: bool
) -> tuple[tuple[Any, ...], int]:
    try:
        body = orjson.loads(_unb64(token))
        ids = tuple(map(bytes.fromhex, body["i"]))
        made_for = (body["w"], body["s"], bool(body["d"]))
        valid = _storable(body["v"], sort) and _valid_ids(ids, what) and _int64(body["a"])
        after, as_of = (body["v"], *ids), int(body["a"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise _invalid(token) from exc
    if not valid or made_for != (what, sort, descending):
        raise InvalidRequest(_MISMATCH)
    return after, as_of


def _int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _storable(value: object, sort: str) -> bool:
    """A sort value a store's column can hold: a finite float for cost, int64 for the rest
    (a forged 1e300 would otherwise reach the engine and overflow there)."""
    if sort == "cost":
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and (math.isfinite(value) if isinstance(value, float) else _int64(value))
        )
    return _int64(value)


def _valid_ids(ids: tuple[bytes, ...], what: str) -> bool:
    """A trace id, and for spans a span id after it."""
    wanted = [TRACE_ID_BYTES, SPAN_ID_BYTES] if what == "spans" else [TRACE_ID_BYTES]
    return [len(i) for i in ids] == wanted


# -- sessions and trace lists: "<int>:<text>" ---------------------------------------------------


def session_token(last_seen_ns: int, session_id: str) -> PageToken:
    return PageToken(base64.urlsafe_b64encode(f"{last_seen_ns}:{session_id}".encode()).decode())


def session_position(token: str) -> tuple[int, str]:
    """(last seen, session id) of the last session of the previous page."""
    return _int_and_text(token)


def trace_list_token(start_ns: int, trace_id: bytes) -> PageToken:
    return PageToken(_b64(f"{start_ns}:{trace_id.hex()}".encode()))


def trace_list_position(token: str) -> tuple[int, bytes]:
    """(start time, trace id) of the last trace of the previous page."""
    start_ns, trace_hex = _int_and_text(token)
    try:
        trace_id = bytes.fromhex(trace_hex)
    except ValueError as exc:
        raise _invalid(token) from exc
    if len(trace_id) != TRACE_ID_BYTES:
        raise _invalid(token)
    return start_ns, trace_id


def _int_and_text(token: str) -> tuple[int, str]:
    try:
        number, text = _unb64(token).decode().split(":", 1)
        # int() of thousands of digits is slow, and only int64 reaches a store.
        if len(number) > 20 or not -(2**63) <= int(number) < 2**63:
            raise ValueError("out of range")
        return int(number), text
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid(token) from exc
