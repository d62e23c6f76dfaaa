"""Tokens of the query language, each with its character position (for error messages)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from tracepond.errors import InvalidRequest


class QuerySyntaxError(InvalidRequest):
    """A query that does not parse; says where (0-based character position) and what was
    expected there. The API adds ``position`` and ``expected`` to the error object."""

    code = "invalid_query"

    def __init__(self, position: int, expected: str, found: str) -> None:
        super().__init__(
            f"query syntax error at position {position}: expected {expected}, found {found}"
        )
        self.position = position
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class Token:
    kind: str  # one of KINDS below, or "end"
    text: str
    position: int
    value: str | int | float | None = None


# Longest first, so that ">>" is not read as two ">" and "!=" is not "!" then "=".
_OPERATORS: Final = (
    "&&",
    "||",
    ">>",
    "!=",
    ">=",
    "<=",
    "=~",
    "!~",
    "{",
    "}",
    "(",
    ")",
    "!",
    "=",
    ">",
    "<",
)
_DURATION_UNITS: Final = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?(ns|us|µs|ms|s|m|h)?(?![A-Za-z0-9_])")
# Intrinsics (name, tokens.input), scoped attributes (span.gen_ai.request.model), unscoped
# attributes (.http.status_code). Attribute keys may hold '-', '/' and ':' as OTel keys do.
_FIELD = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_.\-/:]*")
_QUOTED_FIELD = re.compile(r'(span|resource)?\."')
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
MAX_QUERY_CHARS: Final = 10_000
# Integers longer than this are read as floats (int() of thousands of digits is refused).
_MAX_INT_DIGITS: Final = 18
_INT64: Final = 2**63


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            MAX_QUERY_CHARS, f"a query of at most {MAX_QUERY_CHARS} characters", "more"
        )
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        token = _next_token(text, pos)
        tokens.append(token)
        pos = token.position + len(token.text)
    tokens.append(Token("end", "", len(text)))
    return tokens


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char == '"':
        value, end = _read_string(text, pos)
        return Token("string", text[pos:end], pos, value)
    quoted = _QUOTED_FIELD.match(text, pos)
    if quoted:
        value, end = _read_string(text, quoted.end() - 1)
        return Token("field", text[pos:end], pos, f"{quoted.group(1) or ''}.{value}")
    number = _NUMBER.match(text, pos)
    if number and (char.isdigit() or char == "-"):
        return _number_token(number.group(0), pos)
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return Token(op, op, pos)
    field = _FIELD.match(text, pos)
    if field:
        word = field.group(0)
        return Token(_word_kind(word), word, pos, word)
    raise QuerySyntaxError(pos, "a field, a value, an operator, '{' or '}'", repr(char))


def _word_kind(word: str) -> str:
    if word in ("true", "false"):
        return "bool"
    if word == "nil":
        return "nil"
    return "field"


def _number_token(text: str, pos: int) -> Token:
    """A number or a duration (nanoseconds). Values the store cannot hold are refused here, at
    their position: a float beyond ±1.8e308 (inf), a duration beyond ±292 years (int64 ns)."""
    for unit in sorted(_DURATION_UNITS, key=len, reverse=True):
        if text.endswith(unit) and not text.endswith("e" + unit):
            nanoseconds = float(text[: -len(unit)]) * _DURATION_UNITS[unit]
            if not -_INT64 < nanoseconds < _INT64:
                raise QuerySyntaxError(pos, "a duration of at most 292 years (2^63 ns)", text)
            return Token("duration", text, pos, int(nanoseconds))
    digits = text.lstrip("-")
    if any(c in text for c in ".eE") or len(digits) > _MAX_INT_DIGITS:
        number = float(text)
        if not math.isfinite(number):
            raise QuerySyntaxError(pos, "a number within ±1.8e308", text)
        return Token("number", text, pos, number)
    return Token("number", text, pos, int(text))


def _read_string(text: str, start: int) -> tuple[str, int]:
    """The string starting with the quote at ``start``, and the index after its closing quote."""
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char == "\\":
            escaped = text[pos + 1 : pos + 2]
            if escaped not in _ESCAPES:
                raise QuerySyntaxError(
                    pos, 'an escape (\\" \\\\ \\n \\t \\r)', repr(text[pos : pos + 2])
                )
            out.append(_ESCAPES[escaped])
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise QuerySyntaxError(len(text), "a closing '\"'", "the end of the query")
