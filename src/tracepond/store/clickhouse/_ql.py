"""The query language (``query/ql_ast.py``) compiled to ClickHouse SQL over ``spans`` (the
DuckDB store's ``store/_ql_sql.py`` in ClickHouse's dialect; same meaning).

Each span selector becomes a CTE of matching ``(trace_id, span_id, parent_span_id)`` rows
within the window (a condition on the spans' project, hours and ingest time); trace-level
operators combine those CTEs. Operands are MATERIALIZED (computed once however often they are
read). The descendant walk is a recursive CTE with UNION ALL (the only kind ClickHouse runs)
that carries the walked path, so that a parent chain that loops stops. Every literal goes
through ``Params``.
"""

from __future__ import annotations

from typing import Final

from tracepond.model import ql_ast as ast
from tracepond.model.ql_fields import KIND_VALUES, STATUS_VALUES
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._search_sql import DOCUMENT_COUNT, json_text

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
_SQL_OPS: Final = {"=": "=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}


def with_clause(ctes: list[str]) -> str:
    """The WITH clause of ``ctes``: RECURSIVE when a descendant walk is among them (ClickHouse
    then computes no CTE once: MATERIALIZED is refused in a recursive WITH)."""
    if not ctes:
        return ""
    if any(cte.startswith("a") for cte in ctes):
        plain = [cte.replace(" AS MATERIALIZED (", " AS (", 1) for cte in ctes]
        return "WITH RECURSIVE " + ", ".join(plain) + " "
    return "WITH " + ", ".join(ctes) + " "


class QueryCompiler:
    """Collects CTEs; ``compile`` returns the name of the CTE holding the query's result spans.
    ``spans``: the span source to read (a table, FINAL); ``window``: a condition on it."""

    def __init__(self, params: Params, spans: str, origins: str, window: str) -> None:
        self.params = params
        self.spans = spans
        self.origins = origins
        self.window = window
        self.ctes: list[str] = []

    def compile(self, expr: ast.TraceExpr) -> str:
        if isinstance(expr, ast.Spanset):
            return self._spanset(expr)
        left = self._materialized(self.compile(expr.left))
        right = self._materialized(self.compile(expr.right))
        if expr.op == "and":
            body = (
                f"SELECT * FROM {left} WHERE trace_id IN (SELECT trace_id FROM {right})"
                f" UNION DISTINCT SELECT * FROM {right}"
                f" WHERE trace_id IN (SELECT trace_id FROM {left})"
            )
        elif expr.op == "or":
            body = f"SELECT * FROM {left} UNION DISTINCT SELECT * FROM {right}"
        elif expr.op == "child":
            body = (
                f"SELECT r.* FROM {right} r WHERE (r.trace_id, r.parent_span_id) IN"
                f" (SELECT trace_id, toNullable(span_id) FROM {left})"
            )
        else:
            body = self._descendants(left, right)
        return self._cte(body)

    def _cte(self, body: str) -> str:
        name = f"q{len(self.ctes)}"
        self.ctes.append(f"{name} AS ({body})")
        return name

    def _materialized(self, name: str) -> str:
        index = int(name[1:])
        self.ctes[index] = self.ctes[index].replace(" AS (", " AS MATERIALIZED (", 1)
        return name

    def _spanset(self, spanset: ast.Spanset) -> str:
        condition = "true" if spanset.expr is None else self._expr(spanset.expr)
        source = self.spans
        if "resource_json" in condition:
            source += (
                f" LEFT JOIN (SELECT id, any(resource_json) AS resource_json FROM {self.origins}"
                " GROUP BY id) AS o ON o.id = origin_id"
            )
        return self._cte(
            f"SELECT trace_id, span_id, parent_span_id FROM {source}"
            f" WHERE {self.window} AND ({condition})"
        )

    def _descendants(self, left: str, right: str) -> str:
        """Right-side spans with an ancestor on the left, walking parent links upward from the
        right side within traces that have both sides."""
        edges = self._materialized(
            self._cte(
                f"SELECT trace_id, span_id, parent_span_id FROM {self.spans} WHERE {self.window}"
                f" AND trace_id IN (SELECT trace_id FROM {left}"
                f" INTERSECT DISTINCT SELECT trace_id FROM {right})"
            )
        )
        walk = f"a{len(self.ctes)}"
        self.ctes.append(
            f"{walk} AS (SELECT r.trace_id AS trace_id, r.span_id AS start_id,"
            " assumeNotNull(r.parent_span_id) AS cur, [r.span_id] AS path FROM "
            f"{right} r WHERE r.parent_span_id IS NOT NULL"
            f" AND r.trace_id IN (SELECT trace_id FROM {edges})"
            " UNION ALL SELECT w.trace_id, w.start_id, assumeNotNull(e.parent_span_id),"
            f" arrayPushBack(w.path, w.cur) FROM {walk} w"
            f" JOIN {edges} e ON e.trace_id = w.trace_id AND e.span_id = w.cur"
            " WHERE e.parent_span_id IS NOT NULL AND NOT has(w.path, w.cur))"
        )
        return (
            f"SELECT r.* FROM {right} r WHERE (r.trace_id, r.span_id) IN"
            f" (SELECT w.trace_id, w.start_id FROM {walk} w"
            f" WHERE (w.trace_id, w.cur) IN (SELECT trace_id, span_id FROM {left}))"
        )

    # -- span-level expressions ----------------------------------------------------------------

    def _expr(self, expr: ast.SpanExpr) -> str:
        if isinstance(expr, ast.Not):
            return f"NOT ({self._expr(expr.operand)})"
        if isinstance(expr, ast.BoolOp):
            joiner = " AND " if expr.op == "and" else " OR "
            return f"({self._expr(expr.left)}{joiner}{self._expr(expr.right)})"
        # NULL (field absent) is false, so that `!` is a plain negation.
        return f"coalesce({self._compare(expr)}, false)"

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
            literal = float(literal)  # beyond Int64: compare as a double
        return _operator(column, op, self.params.add(literal))

    def _attribute_compare(self, field: ast.Field, op: str, value: ast.Value) -> str:
        key = self.params.add(field.name)
        span = json_text("attributes_json", key)
        resource = json_text("resource_json", self.params.add("attributes"), key)
        sources = {"span": [span], "resource": [resource], "any": [span, resource]}[field.scope]
        text = sources[0] if len(sources) == 1 else f"coalesce({', '.join(sources)})"
        if value.kind == "nil":
            return f"{text} IS {'' if op == '=' else 'NOT '}NULL"
        if value.kind in ("number", "duration"):
            number = self.params.add(float(value.value))  # type: ignore[arg-type]
            return _operator(f"toFloat64OrNull({text})", op, number)
        literal = ("true" if value.value else "false") if value.kind == "bool" else value.value
        return _operator(text, op, self.params.add(literal))


def _operator(left: str, op: str, right: str) -> str:
    if op == "=~":
        return f"match({left}, {right})"
    if op == "!~":
        return f"NOT match({left}, {right})"
    return f"{left} {_SQL_OPS[op]} {right}"
