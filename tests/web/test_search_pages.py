"""The pages built on the search API, in a real Chromium against a real server: filtering the
traces list (filters, query language, inline query errors, filters in the URL), sessions as
conversations, and the dashboard's charts checked against /api/stats."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from conftest import StoreKind, TracepondProcess
from ingest.otlp_build import make_span, span_id, trace_id

from .conftest import WebData, screenshot
from .data import MS, post, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ERROR_TOOL_QUERY = '{ category = "tool" && status = error }'
BAD_QUERY = '{ category = "tool" && status = }'
# The demo user whose weather question fails (tracepond/demo/corpus.py).
DEMO_USER = "kenji.sato@example.com"


def shown_ids(page: Any) -> list[str]:
    rows = page.locator("table.traces tbody tr")
    return list(rows.evaluate_all("rs => rs.map(r => r.dataset.traceId)"))


def api_ids(web: WebData, **params: Any) -> list[str]:
    page = web.server.get_json("/api/traces", limit=50, **params)
    return [t["trace_id"] for t in page["traces"]]


def expect_ids(page: Any, expected: list[str]) -> None:
    """The table shows exactly these traces, in this order (waits for the reload)."""
    assert expected, "the filter must match something for the check to mean anything"
    rows = page.locator("table.traces tbody tr")
    expect(rows).to_have_count(len(expected))
    expect(rows.first).to_have_attribute("data-trace-id", expected[0])
    assert shown_ids(page) == expected


def test_traces_page_filters_query_and_inline_query_errors(page: Any, web: WebData) -> None:
    page.goto(web.server.url + "/")
    page.wait_for_selector(f'tr[data-trace-id="{web.demo[-1]}"]')

    # Status: only traces with an error span, as the API returns them.
    page.select_option('select[name="status"]', "error")
    page.wait_for_url(re.compile(r"\?status=error$"))
    errors = api_ids(web, status="error")
    expect_ids(page, errors)
    assert page.locator("table.traces tbody tr:not(.has-error)").count() == 0
    assert set(errors) & set(web.demo), "the demo's failing tool call is among them"

    # A service, combined with the status filter, then alone.
    service = page.locator('input[name="service"]')
    service.fill("tracepond-demo")
    service.press("Enter")
    page.wait_for_url(re.compile(r"service=tracepond-demo"))
    expect_ids(page, api_ids(web, status="error", service="tracepond-demo"))
    page.select_option('select[name="status"]', "")
    expect_ids(page, list(reversed(web.demo)))
    assert api_ids(web, service="tracepond-demo") == list(reversed(web.demo))
    expect(page.locator(".count")).to_have_text(f"{len(web.demo)} traces")

    # The query language: demo traces whose tool call failed.
    page.locator('button:has-text("Clear filters")').click()
    query = page.locator("input.query")
    query.fill(ERROR_TOOL_QUERY)
    query.press("Enter")
    page.wait_for_url(re.compile(r"\?q="))
    matching = api_ids(web, q=ERROR_TOOL_QUERY)
    expect_ids(page, matching)
    assert set(matching) <= set(errors)
    screenshot(page, "traces-query")

    # A syntax error is shown under the box, with its position marked; no rows stay listed.
    query.fill(BAD_QUERY)
    query.press("Enter")
    response = web.server.get("/api/traces", q=BAD_QUERY)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_query"
    message = page.locator("#query-error .query-error-message")
    expect(message).to_have_text(error["message"])
    caret = page.locator("#query-error .query-caret")
    assert caret.get_attribute("data-position") == str(error["position"])
    assert caret.locator("mark").inner_text() == BAD_QUERY[error["position"]]
    assert error["expected"] in error["message"]
    assert caret.locator(".caret").inner_text() == " " * error["position"] + "^"
    expect(query).to_have_class(re.compile(r"\binvalid\b"))
    expect(query).to_have_attribute("aria-invalid", "true")
    expect(page.locator("table.traces tbody tr")).to_have_count(0)
    screenshot(page, "traces-query-error")

    # Fixing it (here with an example from the syntax help) clears the error.
    page.locator("button.help").click()
    help_box = page.locator("#query-help")
    expect(help_box).to_be_visible()
    help_box.get_by_role("button", name=ERROR_TOOL_QUERY).click()
    expect(query).to_have_value(ERROR_TOOL_QUERY)
    expect_ids(page, matching)
    expect(page.locator("#query-error")).to_be_empty()
    expect(query).not_to_have_class(re.compile(r"\binvalid\b"))


def test_a_url_with_filters_reproduces_the_view(page: Any, web: WebData) -> None:
    params = {
        "status": "error",
        "service": "tracepond-demo",
        "category": "tool",
        "q": ERROR_TOOL_QUERY,
        "user_id": DEMO_USER,  # no control of its own: kept and shown as a chip
    }
    page.goto(f"{web.server.url}/?{urlencode(params)}")
    expected = api_ids(web, **params)
    expect_ids(page, expected)
    expect(page.locator('select[name="status"]')).to_have_value("error")
    expect(page.locator('input[name="service"]')).to_have_value("tracepond-demo")
    expect(page.locator('select[name="category"]')).to_have_value("tool")
    expect(page.locator("input.query")).to_have_value(ERROR_TOOL_QUERY)
    expect(page.locator('.extra-filter[data-name="user_id"]')).to_contain_text(DEMO_USER)
    assert page.locator(".banner-slot .notice").count() == 0, "every filter is applied"
    screenshot(page, "traces-filtered")

    # Another filter keeps the others in the URL: reloading gives the same view.
    page.fill('input[name="min_duration"]', "1ms")
    page.press('input[name="min_duration"]', "Enter")
    page.wait_for_url(re.compile(r"min_duration=1ms"))
    narrowed = api_ids(web, **params, min_duration="1ms")
    expect_ids(page, narrowed)
    page.reload()
    expect_ids(page, narrowed)
    expect(page.locator('input[name="min_duration"]')).to_have_value("1ms")


def test_sessions_list_and_a_session_as_a_conversation(page: Any, web: WebData) -> None:
    sessions = web.server.get_json("/api/sessions", limit=100)["sessions"]
    # The demo's first user asks its first two questions in one session.
    first = next(t for t in web.server.all_traces() if t["trace_id"] == web.demo[0])
    session, in_session = first["session_id"], web.demo[:2]
    demo = next(s for s in sessions if s["session_id"] == session)
    page.goto(web.server.url + "/sessions")
    row = page.locator(f'tr[data-session-id="{session}"]')
    expect(row).to_be_visible()
    assert page.locator("tbody tr").count() == len(sessions)
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == session
    assert cells[1] == demo["user_id"] == first["user_id"]
    assert cells[2] == str(demo["trace_count"]) == str(len(in_session))
    assert cells[5] == f"{demo['total_tokens']:,}"
    assert "null" not in page.locator("main").inner_text()
    screenshot(page, "sessions")

    row.locator("a").click()
    page.wait_for_url(re.compile(rf"/sessions/{session}$"))
    detail = web.server.get_json(f"/api/sessions/{session}")
    turns = page.locator("ol.turns > li.turn")
    expect(turns).to_have_count(len(detail["traces"]))
    # In order, each turn linking to its trace, with the trace's first input and last output.
    assert [t["trace_id"] for t in detail["traces"]] == in_session
    for i, trace in enumerate(detail["traces"]):
        turn = turns.nth(i)
        assert turn.get_attribute("data-trace-id") == trace["trace_id"]
        assert turn.locator("a.trace-link").get_attribute("href") == f"/traces/{trace['trace_id']}"
        shown_input = turn.locator('[data-role="input"] .bubble-text').inner_text()
        shown_output = turn.locator('[data-role="output"] .bubble-text').inner_text()
        assert shown_input == as_text(trace["input"])
        assert shown_output == as_text(trace["output"])
        assert (turn.locator(".badge.error").count() == 1) == bool(trace["error_count"])
    expect(page.locator(".session-facts")).to_contain_text(f"{len(in_session)} turns")
    assert "null" not in page.locator("main").inner_text()
    screenshot(page, "session")

    turns.nth(1).locator("a.trace-link").click()
    page.wait_for_url(re.compile(rf"/traces/{web.demo[1]}$"))
    page.wait_for_selector(".tl-row[data-span-id]")


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2)


def test_dashboard_charts_show_the_stats_api(page: Any, web: WebData) -> None:
    page.goto(web.server.url + "/dashboard?range=24h")
    columns = page.locator('[data-chart="over-time"] g.column')
    expect(columns.first).to_be_attached()
    dash = page.locator(".dashboard-page")
    window = {
        "since": dash.get_attribute("data-since"),
        "until": dash.get_attribute("data-until"),
    }
    bucket = dash.get_attribute("data-bucket")
    assert bucket == str(30 * 60 * 10**9)
    over_time = web.server.get_json("/api/stats", **window, bucket=bucket, level="trace")
    assert over_time["rows"], "the demo's traces are in the last 24 h"
    assert columns.count() == 48

    # Traces and traces with errors per bucket, as the API counts them (empty buckets as zeros).
    shown = columns.evaluate_all(
        "cs => cs.map(c => [Number(c.dataset.x), Number(c.dataset.count),"
        " Number(c.dataset.error_count)])"
    )
    by_start = {r["bucket_start_ns"]: r for r in over_time["rows"]}
    for x, count, errors in shown:
        row = by_start.pop(int(x), None)
        assert (count, errors) == ((row["count"], row["error_count"]) if row else (0, 0))
    assert not by_start, "every bucket of the API is drawn"
    assert page.locator('[data-chart="over-time"] rect.s-error').count() >= 1
    expect(page.locator('[data-chart="over-time"] h2')).to_contain_text("Traces and errors")

    # Latency: trace duration p50/p95 points where the API has traces.
    points = page.locator('[data-chart="latency"] rect.hover-col').evaluate_all(
        "ps => ps.map(p => [Number(p.dataset.x), Number(p.dataset.p50_ns),"
        " Number(p.dataset.p95_ns)])"
    )
    expected = sorted((r["bucket_start_ns"], r["p50_ns"], r["p95_ns"]) for r in over_time["rows"])
    assert [int(x) for x, _, _ in points] == [x for x, _, _ in expected]
    assert [v for p in points for v in p[1:]] == pytest.approx([v for e in expected for v in e[1:]])
    assert page.locator('[data-chart="latency"] polyline.s-p95').count() >= 1

    # Tokens and cost by model.
    by_model = web.server.get_json("/api/stats", **window, group_by="model")["rows"]
    models = {r["group"]: r for r in by_model if r["group"]}
    assert models, "the demo calls a model"
    tokens = bars(page, "tokens-by-model")
    assert tokens == {m: r["input_tokens"] + r["output_tokens"] for m, r in models.items()}
    costs = bars(page, "cost-by-model")
    assert costs == pytest.approx({m: r["cost"] for m, r in models.items() if r["cost"]})

    # Slowest span names: the top p95s, slowest first.
    by_name = web.server.get_json("/api/stats", **window, group_by="name")["rows"]
    slowest = sorted(by_name, key=lambda r: r["p95_ns"], reverse=True)[:12]
    labels = page.locator('[data-chart="slowest-spans"] tr').evaluate_all(
        "rs => rs.map(r => [r.dataset.label, Number(r.dataset.value)])"
    )
    assert [v for _, v in labels] == pytest.approx([r["p95_ns"] for r in slowest])
    assert labels[0][0] == slowest[0]["group"]

    # Trace counts in the range: the trace-level stats agree with trace search.
    traces = web.server.get_json("/api/traces", **window, limit=1)
    errors = web.server.get_json("/api/traces", **window, status="error", limit=1)
    assert sum(r["count"] for r in over_time["rows"]) == traces["count"]
    assert sum(r["error_count"] for r in over_time["rows"]) == errors["count"]
    expect(page.locator('[data-stat="traces"] b')).to_have_text(str(traces["count"]))
    expect(page.locator('[data-stat="error-traces"] b')).to_have_text(str(errors["count"]))
    assert traces["count"] >= len(web.demo) and errors["count"] >= 1
    (spans,) = web.server.get_json("/api/stats", **window)["rows"]
    expect(page.locator('[data-stat="spans"] b')).to_have_text(f"{spans['count']:,}")
    screenshot(page, "dashboard")

    page.locator('.ranges a:has-text("Last 1h")').click()
    page.wait_for_url(re.compile(r"range=1h"))
    expect(page.locator('[data-chart="over-time"] g.column')).to_have_count(60)
    screenshot(page, "dashboard-1h")


def test_dashboard_counts_traces_not_spans(
    page: Any, start_tracepond: Callable[..., TracepondProcess], store_kind: StoreKind
) -> None:
    """Seven traces of six spans each, two with an error span (one of them with two): the
    dashboard shows 7 traces and 2 with errors over time, and 42 spans."""
    server = start_tracepond(store=store_kind)
    now = time.time_ns()
    traces = []
    for i in range(7):
        trace, root = trace_id(), span_id()
        start = now - (20 - i) * 60 * 10**9
        spans = [make_span(trace, root, "agent", start=start, end=start + (i + 1) * MS)]
        for j in range(5):
            failed = (i == 2 and j in (1, 3)) or (i == 5 and j == 0)
            spans.append(
                make_span(
                    trace,
                    span_id(),
                    f"step {j}",
                    parent=root,
                    start=start + j,
                    end=start + j + MS // 2,
                    status_code=2 if failed else 0,
                )
            )
        post(server, spans, service="seven")
        traces.append(trace.hex())
    wait_for(server, traces, spans=6)
    page.goto(server.url + "/dashboard?range=1h")
    columns = page.locator('[data-chart="over-time"] g.column')
    expect(columns).to_have_count(60)
    shown = columns.evaluate_all(
        "cs => cs.map(c => [Number(c.dataset.count), Number(c.dataset.error_count)])"
    )
    assert sum(c for c, _ in shown) == 7 and sum(e for _, e in shown) == 2
    assert sorted(c for c, _ in shown if c) == [1] * 7  # one trace a minute
    expect(page.locator('[data-stat="traces"] b')).to_have_text("7")
    expect(page.locator('[data-stat="error-traces"] b')).to_have_text("2")
    expect(page.locator('[data-stat="spans"] b')).to_have_text("42")
    expect(page.locator('[data-stat="error-spans"] b')).to_have_text("3")
    # Latency is the traces' durations: 1 ms to 7 ms.
    p95 = page.locator('[data-chart="latency"] rect.hover-col').evaluate_all(
        "ps => ps.map(p => Number(p.dataset.p95_ns))"
    )
    assert sorted(p95) == [(i + 1) * MS for i in range(7)]
    screenshot(page, "dashboard-seven-traces")


def bars(page: Any, chart: str) -> dict[str, float]:
    rows = page.locator(f'[data-chart="{chart}"] tr').evaluate_all(
        "rs => rs.map(r => [r.dataset.label, Number(r.dataset.value)])"
    )
    return {label: value for label, value in rows}
