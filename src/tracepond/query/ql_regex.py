r"""Regular expressions of the query language: the RE2 dialect (DuckDB's and ClickHouse's engine).

Python's ``re`` accepts more than RE2 does, and a pattern RE2 refuses would fail inside the
store. ``re2_problem`` parses the pattern with Python's own parser and refuses what RE2 lacks:
lookaround, backreferences, atomic groups and possessive repeats, conditionals, comments,
Python-only escapes and flags, repeat counts over 1000 (RE2 also caps the product of nested
counts: ``(a{100}){100}`` is refused), and patterns whose compiled program would be too large.
Some patterns RE2 accepts are refused because Python's parser does not know them (``\z``,
``\p{L}``, ``\Q...\E``); their equivalents (``$``, ``[[:alpha:]]``, escaping) work.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any, Final

MAX_REPEAT: Final = 1000
# RE2 compiles a pattern into a program of about one instruction per matched character, a
# bounded repeat copying its body; DuckDB's RE2 refuses programs past a few 10^5 instructions.
MAX_PROGRAM: Final = 50_000
_UNSUPPORTED: Final = {
    sre.ASSERT: "lookahead/lookbehind",
    sre.ASSERT_NOT: "negative lookahead/lookbehind",
    sre.GROUPREF: "a backreference",
    sre.GROUPREF_EXISTS: "a conditional group",
    sre.ATOMIC_GROUP: "an atomic group",
    sre.POSSESSIVE_REPEAT: "a possessive repeat",
}
_REPEATS: Final = (sre.MAX_REPEAT, sre.MIN_REPEAT)
# Escapes RE2 knows (besides escaped punctuation); \1-\7 only as octal with a second digit.
_RE2_ESCAPES: Final = set("aftnrvxdDsSwWbBAzpPQEC0")
_OCTAL: Final = set("01234567")
# Flag groups: (?i) (?m) (?s), or (?flags:...), and nothing else that starts with (? and a letter.
_FLAG_GROUP = re.compile(r"\(\?([A-Za-z-]+)[:)]")


def re2_problem(pattern: str) -> str | None:
    """Why RE2 would refuse ``pattern`` (which Python's ``re`` compiles), or None."""
    problem = _escape_problem(pattern) or _flag_problem(pattern)
    if problem:
        return problem
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return str(exc)
    try:
        size = _program_size(list(parsed), 1)
    except _Refused as exc:
        return str(exc)
    if size > MAX_PROGRAM:
        return f"the pattern is too large for RE2 (about {size} instructions)"
    return None


class _Refused(Exception):
    pass


def _escape_problem(pattern: str) -> str | None:
    position = 0
    in_class = False
    while position < len(pattern):
        char = pattern[position]
        if char == "[" and not in_class:
            in_class = True
            # A ']' right after '[' or '[^' is a literal member, not the end of the class.
            position += 2 if pattern[position + 1 : position + 2] == "^" else 1
            position += 1 if pattern[position : position + 1] == "]" else 0
            continue
        if char == "]" and in_class:
            in_class = False
        elif char == "\\":
            escaped = pattern[position + 1 : position + 2]
            if in_class and escaped == "b":
                return "RE2 has no escape \\b inside [...] (Python's backspace)"
            if escaped.isalnum() and escaped not in _RE2_ESCAPES:
                octal = escaped in _OCTAL and pattern[position + 2 : position + 3] in _OCTAL
                if not octal:
                    return f"RE2 has no escape \\{escaped} (backreferences, \\Z, \\u are Python's)"
            position += 1
        position += 1
    return None


def _flag_problem(pattern: str) -> str | None:
    for match in _FLAG_GROUP.finditer(pattern):
        if match.start() > 0 and pattern[match.start() - 1] == "\\":
            continue
        unknown = set(match.group(1)) - set("ims-")
        if unknown:
            return f"RE2 has no flag {''.join(sorted(unknown))} (only i, m, s)"
    if "(?#" in pattern:
        return "RE2 has no (?#comments)"
    return None


def _program_size(items: list[tuple[Any, Any]], repeats: int) -> int:
    """Instructions of the compiled program, about; ``repeats``: the product of the counts of
    the enclosing repeats, which RE2 caps at 1000."""
    size = 0
    for op, value in items:
        if op in _UNSUPPORTED:
            raise _Refused(f"RE2 has no {_UNSUPPORTED[op]}")
        if op in _REPEATS:
            low, high, body = value
            bound = low if high == sre.MAXREPEAT else high
            nested = repeats * max(bound, 1)
            if bound > MAX_REPEAT or nested > MAX_REPEAT:
                raise _Refused(
                    f"RE2 repeats at most {MAX_REPEAT} times, nested repeats multiplied"
                    f" ({{{bound}}})"
                )
            size += _program_size(list(body), nested) * max(bound, 1) + 1
        elif op == sre.SUBPATTERN:
            size += _program_size(list(value[-1]), repeats) + 1
        elif op == sre.BRANCH:
            size += sum(_program_size(list(branch), repeats) for branch in value[1]) + 1
        else:
            size += 1
        if size > MAX_PROGRAM:
            raise _Refused(f"the pattern is too large for RE2 (over {MAX_PROGRAM} instructions)")
    return size
