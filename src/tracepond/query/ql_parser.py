"""Recursive-descent parser for the query language (grammar in docs/query.md).

    query      := trace_or
    trace_or   := trace_and ( "||" trace_and )*
    trace_and  := trace_rel ( "&&" trace_rel )*
    trace_rel  := trace_atom ( (">>" | ">") trace_atom )*
    trace_atom := "{" [ span_or ] "}" | "(" trace_or ")"
    span_or    := span_and ( "||" span_and )*
    span_and   := span_not ( "&&" span_not )*
    span_not   := "!" span_not | "(" span_or ")" | field op value
    op         := "=" | "!=" | ">" | ">=" | "<" | "<=" | "=~" | "!~"

Every error says where and what was expected; values are kept as typed literals, never as SQL.
Depth is bounded so that a hostile query cannot exhaust the Python stack, and so is the size of
what the query asks the store to do (docs/query.md, "Limits"): each selector is a scan of
spans, each ``>``/``>>`` a walk of parent links, each condition an expression in the SQL.
"""

from __future__ import annotations

from typing import Final, cast

from tracepond.errors import QueryTooComplex
from tracepond.query import ql_ast as ast
from tracepond.query.ql_check import check_compare
from tracepond.query.ql_lexer import QuerySyntaxError, Token, tokenize

_COMPARE_OPS: Final = ("=", "!=", ">", ">=", "<", "<=", "=~", "!~")
_VALUE_KINDS: Final = ("string", "number", "duration", "bool", "nil", "field")
MAX_DEPTH: Final = 64
MAX_SELECTORS: Final = 16
MAX_RELATIONS: Final = 4
MAX_CONDITIONS: Final = 64


def parse(text: str) -> ast.TraceExpr:
    parser = _Parser(tokenize(text))
    expr = parser.trace_or()
    parser.expect_end()
    return expr


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self._counts = {"selectors": 0, "relations": 0, "conditions": 0}

    # -- helpers -------------------------------------------------------------------------------

    @property
    def _peek(self) -> Token:
        return self._tokens[self._index]

    def _take(self) -> Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _fail(self, expected: str) -> QuerySyntaxError:
        token = self._peek
        found = "the end of the query" if token.kind == "end" else repr(token.text)
        return QuerySyntaxError(token.position, expected, found)

    def _expect(self, kind: str, expected: str) -> Token:
        if self._peek.kind != kind:
            raise self._fail(expected)
        return self._take()

    def _nest(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._fail(f"at most {MAX_DEPTH} nested levels")

    def _count(self, what: str, limit: int, token: Token) -> None:
        """One more selector, relation or condition (at ``token``); refused past ``limit``."""
        self._counts[what] += 1
        if self._counts[what] > limit:
            expected = f"at most {limit} {what} in one query"
            raise QueryTooComplex(
                f"query too complex at position {token.position}: {expected}"
                f" ({what} are limited so that one query cannot exhaust the server)",
                token.position,
                expected,
            )

    def expect_end(self) -> None:
        if self._peek.kind != "end":
            raise self._fail("'&&', '||', '>', '>>' or the end of the query")

    # -- trace level ---------------------------------------------------------------------------

    def trace_or(self) -> ast.TraceExpr:
        left = self.trace_and()
        while self._peek.kind == "||":
            self._take()
            left = ast.SpansetOp("or", left, self.trace_and())
        return left

    def trace_and(self) -> ast.TraceExpr:
        left = self.trace_rel()
        while self._peek.kind == "&&":
            self._take()
            left = ast.SpansetOp("and", left, self.trace_rel())
        return left

    def trace_rel(self) -> ast.TraceExpr:
        left = self.trace_atom()
        while self._peek.kind in (">", ">>"):
            self._count("relations", MAX_RELATIONS, self._peek)
            op: ast.SpansetOpName = "child" if self._take().kind == ">" else "descendant"
            left = ast.SpansetOp(op, left, self.trace_atom())
        return left

    def trace_atom(self) -> ast.TraceExpr:
        self._nest()
        if self._peek.kind == "(":
            self._take()
            expr = self.trace_or()
            self._expect(")", "')' or an operator ('&&', '||', '>', '>>')")
        else:
            self._count("selectors", MAX_SELECTORS, self._peek)
            self._expect("{", "'{' (a span selector) or '('")
            inner = None if self._peek.kind == "}" else self.span_or()
            self._expect("}", "'}' or an operator ('&&', '||')")
            expr = ast.Spanset(inner)
        self._depth -= 1
        return expr

    # -- span level ----------------------------------------------------------------------------

    def span_or(self) -> ast.SpanExpr:
        left = self.span_and()
        while self._peek.kind == "||":
            self._take()
            left = ast.BoolOp("or", left, self.span_and())
        return left

    def span_and(self) -> ast.SpanExpr:
        left = self.span_not()
        while self._peek.kind == "&&":
            self._take()
            left = ast.BoolOp("and", left, self.span_not())
        return left

    def span_not(self) -> ast.SpanExpr:
        self._nest()
        kind = self._peek.kind
        expr: ast.SpanExpr
        if kind == "!":
            self._take()
            expr = ast.Not(self.span_not())
        elif kind == "(":
            self._take()
            expr = self.span_or()
            self._expect(")", "')' or an operator ('&&', '||')")
        else:
            expr = self.comparison()
        self._depth -= 1
        return expr

    def comparison(self) -> ast.Compare:
        token = self._expect(
            "field", "a field (name, status, duration, span.<key>, ...), '!' or '('"
        )
        self._count("conditions", MAX_CONDITIONS, token)
        field = _field(token)
        if self._peek.kind not in _COMPARE_OPS:
            raise self._fail("a comparison operator (= != > >= < <= =~ !~)")
        op = cast(ast.CompareOp, self._take().kind)
        if self._peek.kind not in _VALUE_KINDS:
            raise self._fail(
                'a value (a "string", a number, a duration like 500ms, true, false, nil,'
                " or a name like error)"
            )
        value_token = self._take()
        value = _value(value_token)
        compare = ast.Compare(field, op, value)
        check_compare(compare)
        return compare


def _field(token: Token) -> ast.Field:
    text = str(token.value)
    for prefix, scope in (("span.", "span"), ("resource.", "resource")):
        if text.startswith(prefix) and len(text) > len(prefix):
            return ast.Field(cast(ast.Scope, scope), text[len(prefix) :], token.position)
    if text.startswith(".") and len(text) > 1:
        return ast.Field("any", text[1:], token.position)
    return ast.Field("intrinsic", text, token.position)


def _value(token: Token) -> ast.Value:
    if token.kind == "bool":
        return ast.Value("bool", token.text == "true", token.position)
    if token.kind == "nil":
        return ast.Value("nil", None, token.position)
    if token.kind == "field":  # a bare word: error, ok, server, client...
        return ast.Value("ident", token.text, token.position)
    kind = cast(ast.ValueKind, token.kind)
    return ast.Value(kind, token.value, token.position)
