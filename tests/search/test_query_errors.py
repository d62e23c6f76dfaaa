"""Query errors said as a person would, with the nearest valid word ("did you mean `error`?"),
through the API: the query language's errors keep their position and add ``suggestion``; the
API's own word parameters suggest too."""

from __future__ import annotations

from typing import Any

import pytest

# query -> (position, suggestion, words the message must hold)
QUERIES = {
    "{ status = eror }": (11, "error", "`eror` is not a status"),
    "{ status = ERROR }": (11, "error", "A status is `unset`, `ok` or `error`"),
    '{ status = "error" }': (11, "error", "quoted"),
    "{ kind = sever }": (9, "server", "`sever` is not a kind"),
    "{ durration > 5s }": (2, "duration", "`durration` is not a field"),
    "{ tokens.in > 5 }": (2, "tokens.input", "is not a field"),
    "{ http.status_code >= 500 }": (2, ".http.status_code", "Attributes are span.<key>"),
    '{ spna.gen_ai.system = "openai" }': (2, "span.gen_ai.system", "is not a field"),
    "{ duration > 5sec }": (13, "5s", "`5sec` is not a number or a duration"),
    "{ duration > 1h 30m }": (13, "1h30m", "without"),
    '{ duration > "2s" }': (13, "2s", "`duration` is a duration"),
    "{ model = gpt-4o }": (10, '"gpt-4o"', "quote it"),
    "{ span.x = True }": (11, "true", "bare word"),
    "{ span.x = null }": (11, "nil", "bare word"),
    '{ name = "a" and status = error }': (13, "&&", "found `and`"),
    '{ name = "a" } AND { status = error }': (15, "&&", "found `AND`"),
    '{ not name = "a" }': (2, "!", "`not` is not a field"),
    '{ name == "a" }': (7, "=", "`==` is not an operator"),
    "{ duration => 5s }": (11, ">=", "`=>` is not an operator"),
    '{ name <> "a" }': (7, "!=", "`<>` is not an operator"),
    '{ name ~= "a" }': (7, "=~", "`~` cannot be used here"),
    "{} & {}": (3, "&&", "cannot be used here"),
}
# Errors without a word to suggest still say what is wrong in words, at their position.
WITHOUT_SUGGESTION = {
    '{ name = "a" ': (13, "The selector opened at position 0 is not closed"),
    '{ name = "a } ': (14, "The string that starts at position 9 is never closed"),
    "{ name = 'a' }": (9, "double quotes"),
    'name = "a"': (0, "Conditions go inside a span selector's braces"),
    '{ name > "a" }': (9, "`name` is text: it compares with = != =~ !~, not >"),
    "{ status > error }": (11, "`status` compares only with = or !=, not >"),
    "{ duration > -5s }": (13, "negative"),
}


def _error(server: Any, q: str) -> dict[str, Any]:
    response = server.get("/api/traces", q=q)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "invalid_query", error
    return error


@pytest.mark.parametrize("q", QUERIES)
def test_query_errors_suggest_the_nearest_word(tracepond_server: Any, q: str) -> None:
    position, suggestion, words = QUERIES[q]
    error = _error(tracepond_server, q)
    assert error["position"] == position, error
    assert error["suggestion"] == suggestion, error
    assert f"Did you mean `{suggestion}`?" in error["message"], error
    assert words in error["message"], error
    assert error["message"].startswith(f"At position {position}: "), error


@pytest.mark.parametrize("q", WITHOUT_SUGGESTION)
def test_query_errors_say_what_is_wrong(tracepond_server: Any, q: str) -> None:
    position, words = WITHOUT_SUGGESTION[q]
    error = _error(tracepond_server, q)
    assert (error["position"], error.get("suggestion")) == (position, None), error
    assert words in error["message"], error
    assert "found '" not in error["message"], error  # no parser jargon with Python quoting


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        ("/api/traces", {"status": "eror"}, "status: `eror` is not one of `error` or `ok`."),
        ("/api/traces", {"sort": "durations"}, "Did you mean `duration`?"),
        ("/api/traces", {"order": "ascending"}, "Did you mean `asc`?"),
        ("/api/stats", {"group_by": "modle"}, "Did you mean `model`?"),
        ("/api/stats", {"level": "traces"}, "Did you mean `trace`?"),
        ("/api/stats", {"level": "trace", "group_by": "category"}, "at level=trace"),
        ("/api/traces", {"min_duration": "5secs"}, "min_duration: `5secs` is not a duration."),
        ("/api/stats", {"bucket": "1hour"}, "Did you mean `1h`?"),
        ("/api/traces", {"since": "2days"}, "Did you mean `2d`?"),
    ],
)
def test_api_parameters_suggest_the_nearest_word(
    tracepond_server: Any, path: str, params: dict[str, str], words: str
) -> None:
    response = tracepond_server.get(path, **params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and words in error["message"], error


def test_jaeger_parameters_suggest_the_nearest_word(tracepond_server: Any) -> None:
    for params, words in (
        ({"service": "x", "spanKind": "sever"}, "Did you mean `server`?"),
        ({"service": "x", "minDuration": "5secs"}, "Did you mean `5s`?"),
    ):
        path = "/jaeger/api/operations" if "spanKind" in params else "/jaeger/api/traces"
        response = tracepond_server.get(path, **params)
        assert response.status_code == 400, response.text
        assert words in response.json()["errors"][0]["msg"]
