"""Tokens of the query language, each with its character position (for error messages)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from tracepond.errors import InvalidRequest
from tracepond.query import durations
from tracepond.query.suggest import did_you_mean


class QuerySyntaxError(InvalidRequest):
    """A query that does not parse; says where (0-based character position), what is wrong
    there in words (``problem``), the nearest valid word if there is one (``suggestion``), and
    what was expected. The API adds ``position``, ``expected`` and ``suggestion`` to the error.

    Without a ``problem``, it is "expected <expected>, found <found>"."""

    code = "invalid_query"

    def __init__(
        self,
        position: int,
        expected: str,
        found: str,
        *,
        problem: str | None = None,
        suggestion: str | None = None,
        hint: str | None = None,
    ) -> None:
        said = problem or f"Expected {expected}, found {found}."
        extra = f" {hint}" if hint else ""
        super().__init__(f"At position {position}: {said}{did_you_mean(suggestion)}{extra}")
        self.position = position
        self.expected = expected
        self.found = found
        self.suggestion = suggestion


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
# A plain number: not followed by a letter, digit or dot (then it is a duration, or neither).
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?(?![\w.])")
# A number with something after it: a duration (500ms, 1h30m, .5s), or a mistake (5sec, 1.2.3).
_NUMERIC_WORD = re.compile(r"-?(\d|\.\d)[\w.]*")
# What other languages spell differently: "did you mean `&&`?" instead of "unexpected '&'".
_OPERATOR_SPELLINGS: Final = {
    "&": "&&",
    "|": "||",
    "~=": "=~",
    "~": "=~",
    "==": "=",
    "===": "=",
    "<>": "!=",
    "!==": "!=",
    "=!": "!=",
    "=>": ">=",
    "=<": "<=",
    "and": "&&",
    "or": "||",
    "not": "!",
}
# Intrinsics (name, tokens.input), scoped attributes (span.gen_ai.request.model), unscoped
# attributes (.http.status_code). Attribute keys may hold '-', '/' and ':' as OTel keys do.
_FIELD = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_.\-/:]*")
_QUOTED_FIELD = re.compile(r'(span|resource)?\."')
_ESCAPES: Final = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
MAX_QUERY_CHARS: Final = 10_000
# Integers longer than this are read as floats (int() of thousands of digits is refused).
_MAX_INT_DIGITS: Final = 18


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            MAX_QUERY_CHARS,
            f"a query of at most {MAX_QUERY_CHARS} characters",
            "more",
            problem=f"The query is longer than {MAX_QUERY_CHARS:,} characters, the most allowed.",
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


def operator_spelling(text: str) -> str | None:
    """The operator meant by another language's spelling of it (``and`` → ``&&``, ``==`` →
    ``=``), or None."""
    return _OPERATOR_SPELLINGS.get(text.lower() if text.isalpha() else text)


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char == '"':
        value, end = _read_string(text, pos)
        return Token("string", text[pos:end], pos, value)
    quoted = _QUOTED_FIELD.match(text, pos)
    if quoted:
        value, end = _read_string(text, quoted.end() - 1)
        return Token("field", text[pos:end], pos, f"{quoted.group(1) or ''}.{value}")
    numeric = _NUMERIC_WORD.match(text, pos)
    if numeric:
        return _number_token(text, pos, numeric.group(0))
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return Token(op, op, pos)
    field = _FIELD.match(text, pos)
    if field:
        word = field.group(0)
        return Token(_word_kind(word), word, pos, word)
    raise _unexpected_character(text, pos)


def _unexpected_character(text: str, pos: int) -> QuerySyntaxError:
    char = text[pos]
    expected = "a field, a value, an operator, `{` or `}`"
    two = text[pos : pos + 2]
    meant = operator_spelling(two) or operator_spelling(char)
    if char == "'":
        meant = None
        hint = 'Strings are in double quotes: "like this".'
    else:
        hint = f"Expected {expected}."
    return QuerySyntaxError(
        pos,
        expected,
        repr(char),
        problem=f"`{char}` cannot be used here.",
        suggestion=meant,
        hint=hint,
    )


def _word_kind(word: str) -> str:
    if word in ("true", "false"):
        return "bool"
    if word == "nil":
        return "nil"
    return "field"


def _number_token(text: str, pos: int, word: str) -> Token:
    """A number, or a duration in nanoseconds (query/durations.py, the one definition: never
    negative). Values the store cannot hold are refused here, at their position: a float
    beyond ±1.8e308 (inf), a duration of 2^63 ns or more (int64)."""
    number = _NUMBER.match(text, pos)
    if number:
        return _plain_number(number.group(0), pos)
    try:
        nanoseconds = durations.parse_duration(word)  # refuses "-5s": never negative
    except durations.DurationError as exc:
        problem = exc.problem.replace("is not a duration", "is not a number or a duration")
        raise QuerySyntaxError(
            pos,
            "a number or a duration (500ms, 1.5s, 1h30m, 2d)",
            repr(word),
            problem=problem,
            suggestion=exc.suggestion,
            hint=durations.FORMS,
        ) from exc
    return Token("duration", word, pos, nanoseconds)


def _plain_number(text: str, pos: int) -> Token:
    digits = text.lstrip("-")
    if any(c in text for c in ".eE") or len(digits) > _MAX_INT_DIGITS:
        number = float(text)
        if not math.isfinite(number):
            raise QuerySyntaxError(
                pos,
                "a number within ±1.8e308",
                text,
                problem=f"`{text[:40]}` is too large: numbers are within ±1.8e308.",
            )
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
                shown = text[pos : pos + 2]
                raise QuerySyntaxError(
                    pos,
                    'an escape (\\" \\\\ \\n \\t \\r)',
                    repr(shown),
                    problem=f"`{shown}` is not an escape a string can hold:"
                    ' use \\" \\\\ \\n \\t or \\r.',
                )
            out.append(_ESCAPES[escaped])
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise QuerySyntaxError(
        len(text),
        'a closing `"`',
        "the end of the query",
        problem=f'The string that starts at position {start} is never closed: add a `"`.',
    )
