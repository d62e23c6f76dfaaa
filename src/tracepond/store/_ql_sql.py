"""Compile a query-language AST (``model/ql_ast.py``) to parameterized SQL over ``spans``.

Each span selector becomes a CTE of matching ``(trace_id, span_id, parent_span_id)`` rows
within the ingest window; trace-level operators combine those CTEs. The operands of an operator
are MATERIALIZED: each is read several times, and DuckDB inlines a CTE at every reference, so a
chain of n operators would plan ~4^n copies of the first selector, in memory that DuckDB's
memory limit does not cover (12 chained ``>>`` grew the server past 4 GB while planning).
Every literal goes through ``Params``: values are never pasted into SQL text.
"""

from __future__ import annotations

from typing import Final

import orjson

from tracepond.model import ql_ast as ast
from tracepond.model.ql_fields import KIND_VALUES, STATUS_VALUES
from tracepond.store._origins import RESOURCE_JSON
from tracepond.store._params import Params
from tracepond.store._search_sql import DOCUMENT_COUNT

_COLUMNS: Final = {
    "name": "name",
    "status": "status_code",
    "status.message": "status_message",
    "duration": "duration_ns",
    "kind": "kind",
    "category": "category",
    "service": "service_name",
    "model": "model",
    "provider": "provider",
    "tokens.input": "input_tokens",
    "tokens.output": "output_tokens",
    "tokens.total": "total_tokens",
    "cost": "cost",
    "documents.count": DOCUMENT_COUNT,
    "tool.name": "tool_name",
    "error.type": "error_type",
    "session.id": "session_id",
    "user.id": "user_id",
}
_SQL_OPS: Final = {"=": "=", "!=": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


class QueryCompiler:
    """Collects CTEs; ``compile`` returns the name of the CTE holding the query's result spans."""

    def __init__(self, params: Params, window: str) -> None:
        self.params = params
        self.window = window  # a condition on spans.ingested_ns, already parameterized
        self.ctes: list[str] = []

    def compile(self, expr: ast.TraceExpr) -> str:
        if isinstance(expr, ast.Spanset):
            return self._spanset(expr)
        left = self._materialized(self.compile(expr.left))
        right = self._materialized(self.compile(expr.right))
        if expr.op == "and":
            body = (
                f"SELECT * FROM {left} WHERE trace_id IN (SELECT trace_id FROM {right})"
                f" UNION SELECT * FROM {right} WHERE trace_id IN (SELECT trace_id FROM {left})"
            )
        elif expr.op == "or":
            body = f"SELECT * FROM {left} UNION SELECT * FROM {right}"
        elif expr.op == "child":
            body = (
                f"SELECT r.* FROM {right} r WHERE EXISTS (SELECT 1 FROM {left} l"
                " WHERE l.trace_id = r.trace_id AND l.span_id = r.parent_span_id)"
            )
        else:
            body = self._descendants(left, right)
        return self._cte(body)

    def _cte(self, body: str) -> str:
        name = f"q{len(self.ctes)}"
        self.ctes.append(f"{name} AS ({body})")
        return name

    def _materialized(self, name: str) -> str:
        """Mark the CTE ``name`` (one of ours) to be computed once, however often it is read.
        The query's result CTE is read once, and stays inlined so that filters reach it."""
        index = int(name[1:])
        self.ctes[index] = self.ctes[index].replace(" AS (", " AS MATERIALIZED (", 1)
        return name

    def _spanset(self, spanset: ast.Spanset) -> str:
        condition = "TRUE" if spanset.expr is None else self._expr(spanset.expr)
        return self._cte(
            "SELECT trace_id, span_id, parent_span_id FROM spans"
            f" WHERE {self.window} AND ({condition})"
        )

    def _descendants(self, left: str, right: str) -> str:
        """Right-side spans with an ancestor on the left. Walks parent links upward from the
        right side, only within traces that have both sides (usually few). UNION (not UNION
        ALL) stops the walk on a parent chain that loops."""
        edges = self._materialized(
            self._cte(
                "SELECT trace_id, span_id, parent_span_id FROM spans WHERE "
                f"{self.window} AND trace_id IN "
                f"(SELECT trace_id FROM {left} INTERSECT SELECT trace_id FROM {right})"
            )
        )
        walk = f"a{len(self.ctes)}"
        self.ctes.append(
            f"{walk}(trace_id, start_id, cur) AS ("
            f"SELECT r.trace_id, r.span_id, r.parent_span_id FROM {right} r"
            f" WHERE r.parent_span_id IS NOT NULL AND r.trace_id IN (SELECT trace_id FROM {edges})"
            f" UNION SELECT w.trace_id, w.start_id, e.parent_span_id FROM {walk} w"
            f" JOIN {edges} e ON e.trace_id = w.trace_id AND e.span_id = w.cur"
            " WHERE e.parent_span_id IS NOT NULL)"
        )
        return (
            f"SELECT r.* FROM {right} r WHERE EXISTS (SELECT 1 FROM {walk} w JOIN {left} l"
            " ON l.trace_id = w.trace_id AND l.span_id = w.cur"
            " WHERE w.trace_id = r.trace_id AND w.start_id = r.span_id)"
        )

    # -- span-level expressions ----------------------------------------------------------------

    def _expr(self, expr: ast.SpanExpr) -> str:
        if isinstance(expr, ast.Not):
            return f"NOT ({self._expr(expr.operand)})"
        if isinstance(expr, ast.BoolOp):
            joiner = " AND " if expr.op == "and" else " OR "
            return f"({self._expr(expr.left)}{joiner}{self._expr(expr.right)})"
        # NULL (field absent) is false, so that `!` is a plain negation.
        return f"coalesce({self._compare(expr)}, FALSE)"

    def _compare(self, compare: ast.Compare) -> str:
        field, op, value = compare.field, compare.op, compare.value
        if field.scope == "intrinsic":
            return self._column_compare(_COLUMNS[field.name], field.name, op, value)
        if field.scope == "resource" and field.name == "service.name":
            return self._column_compare("service_name", "service", op, value)
        return self._attribute_compare(field, op, value)

    def _column_compare(self, column: str, name: str, op: str, value: ast.Value) -> str:
        if value.kind == "nil":
            return f"{column} IS {'' if op == '=' else 'NOT '}NULL"
        literal: object = value.value
        if name == "status":
            literal = STATUS_VALUES.index(str(value.value))
        elif name == "kind":
            literal = KIND_VALUES.index(str(value.value))
        if isinstance(literal, int) and not isinstance(literal, bool) and abs(literal) >= 2**63:
            literal = float(literal)  # beyond BIGINT: compare as a double, not an overflow
        return _operator(column, op, self.params.add(literal))

    def _attribute_compare(self, field: ast.Field, op: str, value: ast.Value) -> str:
        path = self.params.add("$." + orjson.dumps(field.name).decode())
        resource_path = self.params.add("$.attributes." + orjson.dumps(field.name).decode())
        sources = {
            "span": [f"json_extract_string(attributes_json, {path})"],
            "resource": [f"json_extract_string({RESOURCE_JSON}, {resource_path})"],
            "any": [
                f"json_extract_string(attributes_json, {path})",
                f"json_extract_string({RESOURCE_JSON}, {resource_path})",
            ],
        }[field.scope]
        text = sources[0] if len(sources) == 1 else f"coalesce({', '.join(sources)})"
        if value.kind == "nil":
            return f"{text} IS {'' if op == '=' else 'NOT '}NULL"
        if value.kind in ("number", "duration"):
            number = self.params.add(float(value.value))  # type: ignore[arg-type]
            return _operator(f"TRY_CAST({text} AS DOUBLE)", op, number)
        literal = ("true" if value.value else "false") if value.kind == "bool" else value.value
        return _operator(text, op, self.params.add(literal))


def _operator(left: str, op: str, right: str) -> str:
    if op == "=~":
        return f"regexp_matches({left}, {right})"
    if op == "!~":
        return f"NOT regexp_matches({left}, {right})"
    return f"{left} {_SQL_OPS[op]} {right}"
