"""One definition of a duration (query/durations.py): every form is accepted, and every mistake
refused, alike by the API's parameters, the query language and the Jaeger API."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id

S = 10**9
DAY0 = 1_709_251_200 * S  # 2024-03-01T00:00:00Z
# One single-span trace each; names say the duration.
DURATIONS = {"400ms": 400_000_000, "1h45m": 6300 * S, "36h": 36 * 3600 * S}

# form -> the spans lasting at least that long
ACCEPTED = {
    "1500": {"400ms", "1h45m", "36h"},  # whole nanoseconds
    "300000us": {"400ms", "1h45m", "36h"},
    "300000µs": {"400ms", "1h45m", "36h"},  # U+00B5 micro sign
    "300000μs": {"400ms", "1h45m", "36h"},  # U+03BC Greek mu (Go accepts both)
    "100ms": {"400ms", "1h45m", "36h"},
    "0.5s": {"1h45m", "36h"},
    ".5s": {"1h45m", "36h"},
    "90m": {"1h45m", "36h"},
    "1h30m": {"1h45m", "36h"},
    "1h30m0.5s": {"1h45m", "36h"},
    "2h": {"36h"},
    "1d": {"36h"},
    "1.25d": {"36h"},
    "1d11h": {"36h"},
    "2d": set(),
}
# form -> a word the error message must hold (a suggestion where there is one)
REFUSED = {
    "5sec": "`5s`",
    "1hr30min": "`1h30m`",
    "5S": "`5s`",
    "1h 30m": "`1h30m`",
    "1e3ms": "not",
    "-5s": "negative",
    "1.5": "unit",
    "fast": "not",
    "1w": "not",
    "9" * 30 + "s": "292 years",
    "9223372036854775808": "292 years",
}


@pytest.fixture(scope="module")
def durations_server(tracepond_server: Any) -> tuple[Any, str]:
    service = f"durations-{os.urandom(3).hex()}"
    spans = [
        make_span(trace_id(), span_id(), name, start=DAY0, end=DAY0 + length)
        for name, length in DURATIONS.items()
    ]
    response = tracepond_server.post_otlp(make_request(spans, service=service).SerializeToString())
    assert response.status_code == 200, response.text
    return tracepond_server, service


def api_names(server: Any, service: str, form: str) -> Any:
    return server.get("/api/spans", service=service, min_duration=form, limit=10)


def ql_names(server: Any, service: str, form: str) -> Any:
    return server.get("/api/spans", service=service, q=f"{{ duration >= {form} }}", limit=10)


def jaeger_names(server: Any, service: str, form: str) -> Any:
    return server.get("/jaeger/api/traces", service=service, minDuration=form)


def names(place: str, response: Any) -> set[str]:
    assert response.status_code == 200, (place, response.text)
    body = response.json()
    if place == "jaeger":
        return {trace["spans"][0]["operationName"] for trace in body["data"]}
    return {span["name"] for span in body["spans"]}


PLACES = {"api": api_names, "ql": ql_names, "jaeger": jaeger_names}


@pytest.mark.parametrize("form", ACCEPTED)
@pytest.mark.parametrize("place", PLACES)
def test_each_form_is_accepted_everywhere(
    durations_server: tuple[Any, str], place: str, form: str
) -> None:
    server, service = durations_server
    assert names(place, PLACES[place](server, service, form)) == ACCEPTED[form]


@pytest.mark.parametrize("form", REFUSED)
@pytest.mark.parametrize("place", PLACES)
def test_each_mistake_is_refused_everywhere(
    durations_server: tuple[Any, str], place: str, form: str
) -> None:
    server, service = durations_server
    response = PLACES[place](server, service, form)
    assert response.status_code == 400, (place, form, response.text)
    if place == "jaeger":
        message = response.json()["errors"][0]["msg"]
    else:
        error = response.json()["error"]
        message = error["message"]
        if place == "ql":
            assert error["position"] == len("{ duration >= "), error
    assert REFUSED[form] in message, (place, message)


def test_since_takes_every_duration_form(durations_server: tuple[Any, str]) -> None:
    server, service = durations_server
    # DAY0 is long ago: "spans since 100000 days ago" holds them all, in any form.
    for form in ("100000d", "2400000h", "144000000m"):
        page = server.get_json("/api/spans", service=service, since=form)
        assert {s["name"] for s in page["spans"]} == set(DURATIONS), form
    error = server.get("/api/spans", service=service, since="2days").json()["error"]
    assert "`2d`" in error["message"], error
