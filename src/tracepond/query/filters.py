"""Parsing search filters: the text of ``GET /api/traces`` and ``/api/spans`` parameters (and
the client's) into the typed values of ``model/filters.py``, validated once here."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Final

from tracepond.errors import InvalidRequest
from tracepond.model import ql_ast
from tracepond.model.filters import AttrFilter, AttrOp
from tracepond.query import durations
from tracepond.query.ql_parser import parse
from tracepond.query.suggest import did_you_mean

# Longest first: "!=" before "=", ">=" before ">".
_ATTR_OPS: Final[tuple[tuple[str, AttrOp], ...]] = (
    ("!=", "ne"),
    (">=", "ge"),
    ("<=", "le"),
    ("~", "contains"),
    ("=", "eq"),
    (">", "gt"),
    ("<", "lt"),
)
# ASCII digits only: str.isdigit() and a Unicode \d accept "²" or "٣", which int() rejects.
_INTEGER = re.compile(r"-?\d+", re.ASCII)


def parse_attr_filter(text: str) -> AttrFilter:
    """``key=value``, ``key!=value``, ``key>=3`` (numeric), ``key~part`` (contains) or ``key``
    alone (exists)."""
    for symbol, op in _ATTR_OPS:
        key, sep, value = text.partition(symbol)
        if sep:
            if not key:
                raise InvalidRequest(f"attribute filter {text!r} has no key before {symbol!r}")
            if op in ("gt", "ge", "lt", "le"):
                _number(value, f"attribute filter {text!r}")
            return AttrFilter(key, op, value)
    if not text:
        raise InvalidRequest("empty attribute filter")
    return AttrFilter(text, "exists")


def parse_time(text: str | None, what: str, now_ns: int | None = None) -> int | None:
    """Unix nanoseconds, an ISO-8601 time, or a duration meaning "that long ago" (``1h``)."""
    if text is None or text == "":
        return None
    if _INTEGER.fullmatch(text):
        _check_digits(text, what)
        return _int64(int(text), what)
    try:
        ago = durations.parse_duration(text)
    except durations.DurationError as not_a_duration:
        return _iso_time(text, what, not_a_duration)
    now = time.time_ns() if now_ns is None else now_ns
    return now - ago


def _iso_time(text: str, what: str, not_a_duration: durations.DurationError) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        hint = did_you_mean(not_a_duration.suggestion)
        raise InvalidRequest(
            f"{what}: `{text[:40]}` is not a time.{hint} A time is unix nanoseconds,"
            " ISO-8601 with a timezone (2025-01-31T12:00:00Z) or a duration ago (1h, 30m, 2d)."
        ) from exc
    if moment.tzinfo is None:
        raise InvalidRequest(f"{what} needs a timezone (e.g. Z), got {text!r}")
    return _int64(int(moment.timestamp() * 1_000_000_000), what)


def parse_duration(text: str | None, what: str) -> int | None:
    """Nanoseconds of a duration parameter (query/durations.py: 1500, 500ms, 1h30m, 2d)."""
    if text is None or text == "":
        return None
    try:
        return durations.parse_duration(text)
    except durations.DurationError as exc:
        raise InvalidRequest(f"{what}: {exc}") from exc


def parse_query(text: str | None) -> ql_ast.TraceExpr | None:
    return parse(text) if text and text.strip() else None


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise InvalidRequest(f"{what}: {text!r} is not a number") from exc


def _check_digits(text: str, what: str) -> None:
    # int() refuses more than 4300 digits (ValueError); anything past 19 is out of range anyway.
    if len(text.lstrip("-")) > 19:
        raise InvalidRequest(f"{what} is out of range: {text[:40]!r}...")


def _int64(value: int, what: str) -> int:
    if not -(2**63) <= value < 2**63:
        raise InvalidRequest(f"{what} is out of range: {value}")
    return value
