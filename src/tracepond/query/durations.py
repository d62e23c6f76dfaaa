"""The one definition of a duration, for every place that reads one: the API's parameters
(``min_duration``, ``bucket``, ``since=1h``), the query language (``duration > 1h30m``) and the
Jaeger API (``minDuration``). Documented in docs/query.md, "Durations".

A duration is whole nanoseconds (``1500``), or one or more numbers each with a unit, as Go's
``time.ParseDuration`` reads them (``500ms``, ``1.5s``, ``.5s``, ``1h30m``) plus days (``2d``).
It is never negative and always less than 2^63 ns (about 292 years), the store's int64.
"""

from __future__ import annotations

import re
from typing import Final

from tracepond.query.suggest import did_you_mean, nearest

NS_PER_UNIT: Final[dict[str, int]] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 MICRO SIGN
    "μs": 1_000,  # U+03BC GREEK SMALL LETTER MU, which Go accepts too
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86_400 * 10**9,
}
MAX_NS: Final = 2**63 - 1
FORMS: Final = (
    "A duration is a number with a unit (ns, us or µs, ms, s, m, h, d), like 500ms, 1.5s, 1h30m"
    " or 2d, or whole nanoseconds like 1500."
)
# Longest first, so that "ms" is not read as "m" then "s".
_UNIT = "|".join(sorted(map(re.escape, NS_PER_UNIT), key=len, reverse=True))
_COMPONENT = re.compile(rf"(\d*)(?:\.(\d*))?({_UNIT})", re.ASCII)
_WHOLE_NS = re.compile(r"\d+", re.ASCII)
_FRACTION = re.compile(r"\d*\.\d*", re.ASCII)
# What people write for the units: "5sec", "2 hours" (spaces aside), "10mins".
_UNIT_WORDS: Final = {
    "s": ("sec", "secs", "second", "seconds"),
    "m": ("min", "mins", "minute", "minutes"),
    "h": ("hr", "hrs", "hour", "hours"),
    "d": ("day", "days"),
    "ms": ("msec", "msecs", "milli", "millis", "millisecond", "milliseconds"),
    "us": ("usec", "usecs", "micro", "micros", "microsecond", "microseconds"),
    "ns": ("nsec", "nsecs", "nano", "nanos", "nanosecond", "nanoseconds"),
}
_UNIT_OF_WORD: Final = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
# A number and whatever follows it up to the next number: "1hr30min" → (1, hr), (30, min).
_LOOSE_COMPONENT = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([^\d.]*)", re.ASCII)


class DurationError(ValueError):
    """Text that is not a duration: ``problem`` says why (a sentence), ``suggestion`` is the
    duration the writer most likely meant (``5sec`` → ``5s``), if there is one."""

    def __init__(self, text: str, problem: str, suggestion: str | None = None) -> None:
        self.text = text
        self.problem = problem
        self.suggestion = suggestion
        super().__init__(f"{problem}{did_you_mean(suggestion)} {FORMS}")


def parse_duration(text: str) -> int:
    """Nanoseconds of ``text`` (see the module docstring); DurationError if it is not one."""
    shown = _shown(text)
    if not text:
        raise DurationError(text, "The duration is empty.")
    if text.startswith("-"):
        raise DurationError(text, f"{shown} is negative: durations are never negative.")
    if _FRACTION.fullmatch(text):
        raise DurationError(text, f"{shown} needs a unit: only whole nanoseconds go without one.")
    if _WHOLE_NS.fullmatch(text):
        return _bounded(text, _number_ns(text, "", 1))
    total = 0
    position = 0
    while position < len(text):
        component = _COMPONENT.match(text, position)
        if component is None or not (component.group(1) or component.group(2)):
            raise DurationError(text, f"{shown} is not a duration.", _suggestion(text))
        whole, fraction, unit = component.groups()
        total += _number_ns(whole, fraction or "", NS_PER_UNIT[unit])
        position = component.end()
    return _bounded(text, total)


def _number_ns(whole: str, fraction: str, unit_ns: int) -> int:
    """``whole.fraction`` units in nanoseconds, exactly (a float would round 1.1s); digits
    past 20 cannot change an int64 result below a nanosecond, and are not converted (int() of
    thousands of digits is refused)."""
    whole = whole.lstrip("0")
    if len(whole) > 20:
        return MAX_NS + 1
    fraction = fraction[:20]
    scale: int = 10 ** len(fraction)
    partial = int(fraction or "0") * unit_ns // scale
    return int(whole or "0") * unit_ns + partial


def _bounded(text: str, nanoseconds: int) -> int:
    if nanoseconds > MAX_NS:
        raise DurationError(
            text, f"{_shown(text)} is too long: a duration is at most 292 years (2^63 ns)."
        )
    return nanoseconds


def _suggestion(text: str) -> str | None:
    """``text`` with each unit replaced by the valid unit it most likely meant ("5sec" → "5s",
    "1hr30min" → "1h30m", "5S" → "5s"), if every one has such a unit and the result parses."""
    parts = []
    position = 0
    for match in _LOOSE_COMPONENT.finditer(text):
        if match.start() != position:
            return None
        number, unit = match.group(1), match.group(2).strip().lower()
        unit = _UNIT_OF_WORD.get(unit) or nearest(unit, NS_PER_UNIT) if unit else None
        if unit is None:
            return None
        parts.append(number + unit)
        position = match.end()
    candidate = "".join(parts)
    if position != len(text) or not parts or candidate == text:
        return None
    try:
        parse_duration(candidate)
    except DurationError:
        return None
    return candidate


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut to 40 characters (parameters are not bounded)."""
    return f"`{text}`" if len(text) <= 40 else f"`{text[:40]}…`"


# A retention that never expires anything (a project's own, or the server's).
FOREVER = 0
_FOREVER_WORDS = frozenset({"forever", "off", "none", "0"})


def parse_retention(text: str) -> int:
    """Nanoseconds of a retention (``30d``, ``12h``, ``90m``: a unit is required, so that
    ``30`` is never read as 30 nanoseconds), or FOREVER for ``forever``/``off``/``none``/``0``.
    ValueError (DurationError) otherwise."""
    text = text.strip().lower()
    if text in _FOREVER_WORDS:
        return FOREVER
    if text.isdigit():
        raise ValueError(f"a retention needs a unit (30d, 12h, 90m), got {text!r}")
    return parse_duration(text)
