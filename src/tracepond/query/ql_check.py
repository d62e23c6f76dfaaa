"""Type checks of one comparison: the field exists and the operator and value suit it.

Reported as syntax errors with the position of the offending part, so that a typo in a field
name or a value of the wrong type is caught before any SQL runs.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn

from tracepond.model import ql_ast as ast
from tracepond.model.ql_fields import INTRINSICS, KIND_VALUES, RESOURCE_COLUMNS, STATUS_VALUES
from tracepond.query import durations
from tracepond.query.ql_lexer import QuerySyntaxError
from tracepond.query.ql_regex import re2_problem
from tracepond.query.suggest import nearest, one_of

_EQUALITY = ("=", "!=")
_REGEX = ("=~", "!~")
_ORDER = (">", ">=", "<", "<=")
_ATTRIBUTES: Final = "Attributes are span.<key>, resource.<key> or .<key> (either)."
_SCOPES: Final = ("span", "resource")
_LITERALS: Final = ("true", "false", "nil")
_LITERAL_SPELLINGS: Final = {"null": "nil", "none": "nil", "yes": "true", "no": "false"}
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", re.ASCII)


def check_compare(compare: ast.Compare) -> None:
    field, op, value = compare.field, compare.op, compare.value
    if op in _REGEX:
        _check_regex(value)
    name = field.name
    if field.scope == "resource" and name in RESOURCE_COLUMNS:
        # A stored column, typed as its intrinsic: resource.service.name is `service`.
        name = RESOURCE_COLUMNS[name]
    elif field.scope != "intrinsic":
        _check_attribute(op, value)
        return
    kind = INTRINSICS.get(name)
    if kind is None:
        raise _unknown_field(field)
    if kind in ("status", "kind"):
        _check_enum(name, STATUS_VALUES if kind == "status" else KIND_VALUES, op, value)
    elif kind == "string":
        _check_string(name, op, value)
    elif kind == "duration":
        _check_duration(name, op, value)
    elif not (value.kind == "nil" and op in _EQUALITY):
        _check_number(name, op, value)


def _unknown_field(field: ast.Field) -> QuerySyntaxError:
    """``field`` is not an intrinsic: the nearest intrinsic, else the scope it most likely
    misses or misspells (``http.status_code`` → ``.http.status_code``, ``spna.x`` → ``span.x``)."""
    name = field.name
    suggestion = nearest(name, INTRINSICS)
    scope, dot, rest = name.partition(".")
    if suggestion is None and dot and rest:
        scope_meant = nearest(scope, _SCOPES)
        suggestion = f"{scope_meant}.{rest}" if scope_meant else f".{name}"
    fields = f"Fields are {one_of(sorted(INTRINSICS))}. "
    return QuerySyntaxError(
        field.position,
        f"a known field ({', '.join(sorted(INTRINSICS))}) or span./resource. attribute",
        repr(name),
        problem=f"`{name}` is not a field.",
        suggestion=suggestion,
        hint=_ATTRIBUTES if suggestion else fields + _ATTRIBUTES,
    )


def _check_enum(name: str, allowed: tuple[str, ...], op: str, value: ast.Value) -> None:
    expected = f"{name} = or != one of {', '.join(allowed)}"
    words = f"A {name} is {one_of(allowed)}."
    if op not in _EQUALITY:
        _fail(value, expected, problem=f"`{name}` compares only with = or !=, not {op}.")
    if value.kind == "ident" and value.value in allowed:
        return
    if value.kind in ("ident", "string"):
        word = str(value.value)
        quoted = value.kind == "string"
        problem = f'`"{word}"` is quoted; {name} values are bare words.'
        if not quoted:
            problem = f"`{word}` is not a {name}."
        _fail(value, expected, problem=problem, suggestion=nearest(word, allowed), hint=words)
    _fail(value, expected, problem=f"{_shown(value)} is not a {name}.", hint=words)


def _check_string(name: str, op: str, value: ast.Value) -> None:
    if value.kind == "nil" and op in _EQUALITY:
        return
    expected = f'a "string" compared with = != =~ !~ (or nil) for {name}'
    if op in _ORDER:
        _fail(value, expected, problem=f"`{name}` is text: it compares with = != =~ !~, not {op}.")
    if value.kind != "string":
        _fail(
            value,
            expected,
            problem=f"`{name}` is text, and {_shown(value)} is not: quote it.",
            suggestion=_quoted(value),
        )


def _check_duration(name: str, op: str, value: ast.Value) -> None:
    expected = f"a duration (e.g. 500ms, 2s) for {name}"
    if op in _REGEX:
        _fail(value, expected, problem=f"`{name}` compares with = != > >= < <=, not {op}.")
    if value.kind == "duration":
        return
    if value.kind == "number":  # whole nanoseconds, as everywhere (query/durations.py)
        try:
            durations.parse_duration(value.text)
        except durations.DurationError as exc:
            _fail(value, expected, problem=exc.problem, hint=durations.FORMS)
        return
    suggestion = None
    if value.kind in ("string", "ident"):
        suggestion = _duration_meant(str(value.value))
    _fail(
        value,
        expected,
        problem=f"`{name}` is a duration, and {_shown(value)} is not.",
        suggestion=suggestion,
        hint=durations.FORMS,
    )


def _check_number(name: str, op: str, value: ast.Value) -> None:
    if value.kind == "number" and op not in _REGEX:
        return
    expected = f"a number (or nil) for {name}"
    if op in _REGEX:
        _fail(value, expected, problem=f"`{name}` is a number: it compares with = != > >= < <=.")
    suggestion = None
    if value.kind == "string" and _NUMBER.fullmatch(str(value.value)):
        suggestion = str(value.value)
    _fail(
        value,
        expected,
        problem=f"`{name}` is a number, and {_shown(value)} is not.",
        suggestion=suggestion,
    )


def _check_attribute(op: str, value: ast.Value) -> None:
    if value.kind == "ident":
        word = str(value.value)
        meant = _LITERAL_SPELLINGS.get(word.lower()) or nearest(word, _LITERALS)
        _fail(
            value,
            'a quoted "string", a number, a duration, true, false or nil',
            problem=f"`{word}` is a bare word; an attribute's value is a quoted"
            ' "string", a number, a duration, true, false or nil.',
            suggestion=meant or _quoted(value),
        )
    if value.kind == "nil" and op not in _EQUALITY:
        _fail(
            value,
            "= nil or != nil (nil compares only for equality)",
            problem=f"nil compares only with = or !=, not {op}.",
        )
    if value.kind == "bool" and op not in _EQUALITY:
        _fail(
            value,
            "= or != with true/false",
            problem=f"true and false compare only with = or !=, not {op}.",
        )
    if value.kind == "string" and op in _ORDER:
        _fail(
            value,
            "a number or duration with > >= < <=",
            problem=f"{op} compares numbers and durations, not text.",
            suggestion=str(value.value) if _NUMBER.fullmatch(str(value.value)) else None,
        )


def _check_regex(value: ast.Value) -> None:
    if value.kind != "string":
        _fail(
            value,
            'a "regular expression" string after =~ or !~',
            problem='=~ and !~ take a regular expression in quotes: "^chat ".',
            suggestion=_quoted(value),
        )
    try:
        re.compile(str(value.value))
    except re.error as exc:
        raise QuerySyntaxError(
            value.position,
            f"a valid regular expression ({exc})",
            repr(value.value),
            problem=f"`{value.value}` is not a valid regular expression: {exc}.",
        ) from exc
    # The store's engine is RE2, which refuses some of what Python accepts.
    problem = re2_problem(str(value.value))
    if problem:
        raise QuerySyntaxError(
            value.position,
            f"a regular expression in RE2 syntax ({problem})",
            repr(value.value),
            problem=f"`{value.value}` is outside RE2's syntax, the store's: {problem}.",
        )


def _duration_meant(text: str) -> str | None:
    """The duration ``text`` is or most likely means (``"5s"`` → ``5s``, ``5sec`` → ``5s``)."""
    try:
        durations.parse_duration(text)
    except durations.DurationError as exc:
        return exc.suggestion
    return text


def _quoted(value: ast.Value) -> str | None:
    if value.kind in ("ident", "number", "duration", "bool"):
        return f'"{value.text or value.value}"'
    return None


def _shown(value: ast.Value) -> str:
    return f"`{value.text or value.value}`"


def _fail(
    value: ast.Value,
    expected: str,
    *,
    problem: str,
    suggestion: str | None = None,
    hint: str | None = None,
) -> NoReturn:
    found = "nil" if value.kind == "nil" else repr(value.value)
    raise QuerySyntaxError(
        value.position, expected, found, problem=problem, suggestion=suggestion, hint=hint
    )
