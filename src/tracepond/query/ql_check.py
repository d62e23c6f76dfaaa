"""Type checks of one comparison: the field exists and the operator and value suit it.

Reported as syntax errors with the position of the offending part, so that a typo in a field
name or a value of the wrong type is caught before any SQL runs.
"""

from __future__ import annotations

import re

from tracepond.query import ql_ast as ast
from tracepond.query.ql_fields import INTRINSICS, KIND_VALUES, RESOURCE_COLUMNS, STATUS_VALUES
from tracepond.query.ql_lexer import QuerySyntaxError
from tracepond.query.ql_regex import re2_problem

_EQUALITY = ("=", "!=")
_REGEX = ("=~", "!~")
_ORDER = (">", ">=", "<", "<=")


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
        known = ", ".join(sorted(INTRINSICS))
        raise QuerySyntaxError(
            field.position,
            f"a known field ({known}) or span./resource. attribute",
            repr(field.name),
        )
    if kind in ("status", "kind"):
        allowed = STATUS_VALUES if kind == "status" else KIND_VALUES
        if op not in _EQUALITY or value.kind != "ident" or value.value not in allowed:
            _fail(value, f"{name} = or != one of {', '.join(allowed)}")
    elif kind == "string":
        if value.kind == "nil" and op in _EQUALITY:
            return
        if value.kind != "string" or op in _ORDER:
            _fail(value, f'a "string" compared with = != =~ !~ (or nil) for {name}')
    elif kind == "duration":
        if value.kind not in ("duration", "number") or op in _REGEX:
            _fail(value, f"a duration (e.g. 500ms, 2s) for {name}")
    elif value.kind == "nil" and op in _EQUALITY:
        return
    elif value.kind != "number" or op in _REGEX:
        _fail(value, f"a number (or nil) for {name}")


def _check_attribute(op: str, value: ast.Value) -> None:
    if value.kind == "ident":
        _fail(value, 'a quoted "string", a number, a duration, true, false or nil')
    if value.kind == "nil" and op not in _EQUALITY:
        _fail(value, "= nil or != nil (nil compares only for equality)")
    if value.kind == "bool" and op not in _EQUALITY:
        _fail(value, "= or != with true/false")
    if value.kind == "string" and op in _ORDER:
        _fail(value, "a number or duration with > >= < <=")


def _check_regex(value: ast.Value) -> None:
    if value.kind != "string":
        _fail(value, 'a "regular expression" string after =~ or !~')
    try:
        re.compile(str(value.value))
    except re.error as exc:
        raise QuerySyntaxError(
            value.position, f"a valid regular expression ({exc})", repr(value.value)
        ) from exc
    # The store's engine is RE2, which refuses some of what Python accepts.
    problem = re2_problem(str(value.value))
    if problem:
        raise QuerySyntaxError(
            value.position, f"a regular expression in RE2 syntax ({problem})", repr(value.value)
        )


def _fail(value: ast.Value, expected: str) -> None:
    found = "nil" if value.kind == "nil" else repr(value.value)
    raise QuerySyntaxError(value.position, expected, found)
