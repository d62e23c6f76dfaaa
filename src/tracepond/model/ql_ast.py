"""The query language's syntax tree (produced by ``query/ql_parser.py``, compiled to SQL in
``store/_ql_sql.py``). Plain frozen dataclasses: no SQL, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Where a field's value comes from: a column of the span (intrinsic or normalized), its raw
# attributes (``span.``), its resource's attributes (``resource.``), or either (``.key``).
Scope = Literal["intrinsic", "span", "resource", "any"]
ValueKind = Literal["string", "number", "duration", "bool", "nil", "ident"]
CompareOp = Literal["=", "!=", ">", ">=", "<", "<=", "=~", "!~"]
SpansetOpName = Literal["and", "or", "child", "descendant"]


@dataclass(frozen=True)
class Field:
    scope: Scope
    name: str
    position: int


@dataclass(frozen=True)
class Value:
    kind: ValueKind
    # str for string/ident, int for duration (nanoseconds), int|float for number, bool, None.
    value: str | int | float | bool | None
    position: int
    text: str = ""  # as written in the query (for error messages)


@dataclass(frozen=True)
class Compare:
    field: Field
    op: CompareOp
    value: Value


@dataclass(frozen=True)
class Not:
    operand: SpanExpr


@dataclass(frozen=True)
class BoolOp:
    op: Literal["and", "or"]
    left: SpanExpr
    right: SpanExpr


SpanExpr = Compare | Not | BoolOp


@dataclass(frozen=True)
class Spanset:
    """``{ expr }``; ``{ }`` (expr None) matches every span."""

    expr: SpanExpr | None


@dataclass(frozen=True)
class SpansetOp:
    """Trace-level combination. ``and``/``or``: the trace has spans matching both/either side
    (result: the matching spans of both sides); ``child``/``descendant``: spans of the right side
    whose parent/ancestor matches the left side (result: those right-side spans)."""

    op: SpansetOpName
    left: TraceExpr
    right: TraceExpr


TraceExpr = Spanset | SpansetOp
