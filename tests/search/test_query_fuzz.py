"""Fuzzing the query language against a real server: random and adversarial queries never get
a 5xx other than the documented 503 limit answers, every error is the JSON error shape, and
every request is answered (within the server's query time limit plus a margin)."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SERVER_QUERY_TIMEOUT = 10.0  # the default --query-timeout of the shared search server
LIMIT_CODES = {"query_timeout", "query_memory_limit"}

FIELDS = st.sampled_from(
    [
        "name",
        "status",
        "duration",
        "kind",
        "category",
        "service",
        "model",
        "tokens.input",
        "cost",
        "documents.count",
        "span.gen_ai.request.model",
        "resource.service.name",
        ".http.status_code",
        'span."a key"',
        "bogus",
    ]
)
OPS = st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "=~", "!~"])
REGEXES = st.sampled_from(
    ["(?=a)", "(a)\\\\1", "a{1001}", "(a{100}){100}", "[\\\\b]", "\\\\Z", "(?x)a", "^chat ", ".*"]
)
VALUES = st.one_of(
    st.text(max_size=8).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
    REGEXES.map(lambda r: f'"{r}"'),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e300h", "1e999", "-5ms", "2s", "nil", "true", "error", "server", "9" * 30]),
)
CONDITIONS = st.builds(lambda f, o, v: f"{f} {o} {v}", FIELDS, OPS, VALUES)
SPAN_EXPR = st.recursive(
    CONDITIONS,
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["&&", "||"]), inner),
        inner.map(lambda e: f"!({e})"),
    ),
    max_leaves=8,
)
SELECTORS = st.one_of(st.just("{}"), SPAN_EXPR.map(lambda e: "{ " + e + " }"))
TRACE_EXPR = st.recursive(
    SELECTORS,
    lambda inner: st.one_of(
        st.builds(
            lambda a, op, b: f"{a} {op} {b}", inner, st.sampled_from(["&&", "||", ">", ">>"]), inner
        ),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=24,
)
ADVERSARIAL = st.builds(
    lambda unit, op, n: f" {op} ".join([unit] * n),
    st.sampled_from(["{}", '{ name = "a" }', "({})"]),
    st.sampled_from(["&&", "||", ">", ">>"]),
    st.integers(1, 400),
)
QUERIES = st.one_of(TRACE_EXPR, ADVERSARIAL, st.text(max_size=40))
ENDPOINTS = st.sampled_from(["/api/spans", "/api/traces", "/api/stats"])


def _check(response: httpx.Response) -> None:
    status = response.status_code
    assert status in (200, 400, 503), (status, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.text[:200]
    if status == 200:
        return
    error = response.json()["error"]
    assert error["status"] == status and isinstance(error["message"], str), error
    if status == 503:
        assert error["code"] in LIMIT_CODES, error
    elif error["code"] in ("invalid_query", "query_too_complex"):
        assert isinstance(error["position"], int), error


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=QUERIES, endpoint=ENDPOINTS)
def test_query_language_fuzz(server: Any, query: str, endpoint: str) -> None:
    with httpx.Client(base_url=server.url, timeout=SERVER_QUERY_TIMEOUT + 30) as client:
        _check(client.get(endpoint, params={"q": query, "limit": 5}))
