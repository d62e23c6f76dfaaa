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
from tracepond.model import ql_ast as ast
from tracepond.query.ql_check import check_compare
from tracepond.query.ql_lexer import QuerySyntaxError, Token, operator_spelling, tokenize

_COMPARE_OPS: Final = ("=", "!=", ">", ">=", "<", "<=", "=~", "!~")
_VALUE_KINDS: Final = ("string", "number", "duration", "bool", "nil", "field")
_BRACES_HINT: Final = 'Conditions go inside a span selector\'s braces: { name = "chat" }.'
_COMBINE_HINT: Final = (
    "Selectors combine with && (both), || (either), > (child) or >> (descendant)."
)
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

    def _fail(self, expected: str, hint: str | None = None) -> QuerySyntaxError:
        """Expected ``expected`` at the next token; what another language calls the operator
        meant there (``and``, ``==``) is suggested."""
        token = self._peek
        found = "the end of the query" if token.kind == "end" else f"`{token.text}`"
        return QuerySyntaxError(
            token.position,
            expected,
            found,
            problem=f"Expected {expected}, found {found}.",
            suggestion=operator_spelling(token.text),
            hint=hint,
        )

    def _expect(self, kind: str, expected: str, hint: str | None = None) -> Token:
        if self._peek.kind != kind:
            raise self._fail(expected, hint)
        return self._take()

    def _nest(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            token = self._peek
            raise QuerySyntaxError(
                token.position,
                f"at most {MAX_DEPTH} nested levels",
                f"`{token.text}`",
                problem=f"The query nests deeper than {MAX_DEPTH} levels, the most allowed.",
            )

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
            raise self._fail("`&&`, `||`, `>`, `>>` or the end of the query", _COMBINE_HINT)

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
            self._expect(")", "`)` or an operator (`&&`, `||`, `>`, `>>`)")
        else:
            self._count("selectors", MAX_SELECTORS, self._peek)
            opening = self._expect("{", "`{` (a span selector) or `(`", _BRACES_HINT)
            inner = None if self._peek.kind == "}" else self.span_or()
            self._close_selector(opening)
            expr = ast.Spanset(inner)
        self._depth -= 1
        return expr

    def _close_selector(self, opening: Token) -> None:
        if self._peek.kind == "}":
            self._take()
            return
        if self._peek.kind == "end":
            raise QuerySyntaxError(
                self._peek.position,
                "`}`",
                "the end of the query",
                problem=f"The selector opened at position {opening.position} is not closed:"
                " add a `}`.",
            )
        raise self._fail("`}` or an operator (`&&`, `||`)")

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
            self._expect(")", "`)` or an operator (`&&`, `||`)")
        else:
            expr = self.comparison()
        self._depth -= 1
        return expr

    def comparison(self) -> ast.Compare:
        token = self._expect(
            "field", "a field (name, status, duration, span.<key>, ...), `!` or `(`"
        )
        self._count("conditions", MAX_CONDITIONS, token)
        if operator_spelling(token.text) == "!" and self._peek.kind in ("field", "("):
            raise QuerySyntaxError(
                token.position,
                "a field, `!` or `(`",
                f"`{token.text}`",
                problem=f"`{token.text}` is not a field.",
                suggestion="!",
            )
        field = _field(token)
        if self._peek.kind not in _COMPARE_OPS:
            raise self._fail("a comparison operator (= != > >= < <= =~ !~)")
        op_token = self._take()
        op = cast(ast.CompareOp, op_token.kind)
        if self._peek.kind not in _VALUE_KINDS:
            raise self._missing_value(op_token)
        value_token = self._take()
        if value_token.kind == "duration" and self._peek.kind in ("duration", "number"):
            raise self._spaced_duration(value_token)
        value = _value(value_token)
        compare = ast.Compare(field, op, value)
        check_compare(compare)
        return compare

    def _spaced_duration(self, first: Token) -> QuerySyntaxError:
        """``1h 30m``: one duration written with a space (the parser would read two values)."""
        parts = [first.text]
        while self._peek.kind in ("duration", "number"):
            parts.append(self._take().text)
        written, meant = " ".join(parts), "".join(parts)
        return QuerySyntaxError(
            first.position,
            "a duration without spaces",
            f"`{written}`",
            problem=f"`{written}` has spaces; a duration is written without them.",
            suggestion=meant,
        )

    def _missing_value(self, op: Token) -> QuerySyntaxError:
        """No value after ``op``; an operator right after it (``==``, ``=>``, ``<>``) is most
        likely another language's spelling of one operator."""
        token = self._peek
        expected = (
            'a value (a "string", a number, a duration like 500ms, true, false, nil,'
            " or a name like error)"
        )
        found = "the end of the query" if token.kind == "end" else f"`{token.text}`"
        joined = op.text + token.text
        meant = None
        if token.kind in _COMPARE_OPS and token.position == op.position + len(op.text):
            meant = operator_spelling(joined)
        if meant is not None:
            return QuerySyntaxError(
                op.position,
                "a comparison operator (= != > >= < <= =~ !~)",
                f"`{joined}`",
                problem=f"`{joined}` is not an operator.",
                suggestion=meant,
            )
        return QuerySyntaxError(
            token.position,
            expected,
            found,
            problem=f"Expected {expected} after `{op.text}`, found {found}.",
        )


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
        return ast.Value("bool", token.text == "true", token.position, token.text)
    if token.kind == "nil":
        return ast.Value("nil", None, token.position, token.text)
    if token.kind == "field":  # a bare word: error, ok, server, client...
        return ast.Value("ident", token.text, token.position, token.text)
    kind = cast(ast.ValueKind, token.kind)
    return ast.Value(kind, token.value, token.position, token.text)
