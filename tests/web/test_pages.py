"""The web view in a real Chromium against a real server filled with the demo's traces."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from ingest.otlp_build import make_span, span_id, trace_id

from .conftest import WebData, screenshot
from .data import post, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def tree(web: WebData, trace: str) -> dict[str, Any]:
    data = web.server.trace(trace)
    assert data is not None
    return data


def spans_by_category(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    stack = list(data["roots"])
    while stack:
        node = stack.pop()
        out.setdefault(node["view"]["category"], node)
        stack.extend(node["children"])
    return out


def tool_trace(web: WebData, *, failing: bool = True) -> dict[str, Any]:
    """The demo trace in which the agent's weather tool call failed (or succeeded)."""
    for trace in web.demo:
        data = tree(web, trace)
        tool = spans_by_category(data).get("tool")
        if tool and (tool["status"]["code"] == "error") == failing:
            return data
    raise AssertionError(f"no demo trace with a {'failing' if failing else 'working'} tool call")


def expect_rows(page: Any, count: int) -> None:
    expect(page.locator(".tl-body .tl-row")).to_have_count(count)


def test_traces_page_lists_the_demo_newest_first_and_updates_live(page: Any, web: WebData) -> None:
    page.goto(web.server.url + "/")
    rows = page.locator("table.traces tbody tr")
    page.wait_for_selector(f'tr[data-trace-id="{web.demo[-1]}"]')
    ids = [rows.nth(i).get_attribute("data-trace-id") for i in range(rows.count())]
    # The demo's traces, newest first, above the earlier XSS and huge traces.
    assert ids[:4] == list(reversed(web.demo))
    summary = next(t for t in web.server.all_traces() if t["trace_id"] == web.demo[0])
    row = page.locator(f'tr[data-trace-id="{web.demo[0]}"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[1].startswith("demo question")
    assert cells[2] == "tracepond-demo"
    assert cells[4] == str(summary["span_count"])
    assert cells[5] == f"{summary['total_tokens']:,}"
    assert cells[8].splitlines() == [summary["session_id"], summary["user_id"]]
    errors = [t for t in web.demo if tree(web, t)["summary"]["error_count"]]
    assert errors, "the demo has one failing tool call"
    assert page.locator(f'tr[data-trace-id="{errors[0]}"] .badge.error').count() == 1
    screenshot(page, "traces")

    # A trace sent now appears without a reload.
    page.evaluate("window.__still_the_same_page = true")
    tid = trace_id()
    post(web.server, [make_span(tid, span_id(), "arrived while watching")])
    wait_for(web.server, [tid.hex()])
    page.wait_for_selector(f'tr[data-trace-id="{tid.hex()}"]', timeout=10_000)
    assert rows.first.get_attribute("data-trace-id") == tid.hex()
    assert page.evaluate("window.__still_the_same_page") is True

    # Click a row: its trace opens.
    row.locator("td.service").click()
    page.wait_for_url(re.compile(rf"/traces/{web.demo[0]}"))
    page.wait_for_selector(".tl-row[data-span-id]")


def test_trace_page_tree_waterfall_and_keyboard(page: Any, web: WebData) -> None:
    data = tool_trace(web)
    trace = data["trace_id"]
    total = data["summary"]["span_count"]
    page.goto(f"{web.server.url}/traces/{trace}")
    page.wait_for_selector(".tl-row[data-span-id]")
    expect_rows(page, total)
    assert page.locator(".trace-head h1").inner_text() == "demo question"
    # Bars scaled to time: the root spans the whole axis, its children inside it.
    root_bar = page.locator(f'.tl-row[data-span-id="{data["roots"][0]["span_id"]}"] .bar')
    assert root_bar.evaluate("b => b.style.left") in ("0%", "0px")
    # Errors are marked on the failing span and counted on its ancestors.
    failing = spans_by_category(data)["tool"]
    expect(page.locator(f'.tl-row[data-span-id="{failing["span_id"]}"]')).to_have_class(
        re.compile(r"\berror\b")
    )
    root_row = page.locator(f'.tl-row[data-span-id="{data["roots"][0]["span_id"]}"]')
    expect(root_row.locator(".err-count")).to_have_text("⚠ 1")
    screenshot(page, "trace")

    page.get_by_role("button", name="Collapse all").click()
    expect_rows(page, 1 + len(data["roots"][0]["children"]))
    page.get_by_role("button", name="Expand all").click()
    expect_rows(page, total)

    # Keyboard: the root is selected on open.
    body = page.locator(".tl-body")
    body.focus()
    selected = page.locator(".tl-row.selected")
    expect(selected).to_have_attribute("data-span-id", data["roots"][0]["span_id"])
    page.keyboard.press("ArrowLeft")  # collapse the root
    expect_rows(page, 1)
    page.keyboard.press("ArrowRight")  # expand it again
    expect_rows(page, total)
    page.keyboard.press("ArrowRight")  # first child
    agent = data["roots"][0]["children"][0]
    expect(selected).to_have_attribute("data-span-id", agent["span_id"])
    page.keyboard.press("ArrowDown")
    first_grandchild = sorted(agent["children"], key=lambda c: c["start_time_unix_nano"])[0]
    expect(selected).to_have_attribute("data-span-id", first_grandchild["span_id"])
    page.wait_for_url(re.compile(rf"span={first_grandchild['span_id']}"))
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")  # toggles the agent's subtree
    expect_rows(page, 2)
    page.keyboard.press("Enter")
    expect_rows(page, total)

    # Search within the trace selects the match.
    page.fill(".trace-search", failing["span_id"])
    expect(page.locator(".match-count")).to_have_text("1 of 1")
    expect(selected).to_have_attribute("data-span-id", failing["span_id"])
    page.wait_for_selector(f'.detail[data-span-id="{failing["span_id"]}"]')


def open_span(page: Any, web: WebData, trace: str, span: str) -> Any:
    page.goto(f"{web.server.url}/traces/{trace}?span={span}")
    detail = page.locator(f'.detail[data-span-id="{span}"]')
    detail.wait_for()
    page.wait_for_selector('.detail [data-section="resource"]')  # the full span has arrived
    assert page.locator(".tl-row.selected").get_attribute("data-span-id") == span
    return detail


def test_llm_span_shows_model_conversation_and_usage(page: Any, web: WebData) -> None:
    data = tool_trace(web)
    llm = spans_by_category(data)["llm"]
    view = llm["view"]
    detail = open_span(page, web, data["trace_id"], llm["span_id"])
    model = detail.locator('[data-section="llm"]')
    assert view["model"] in model.inner_text()
    metrics = dict(
        zip(
            model.locator(".metric .muted").all_inner_texts(),
            model.locator(".metric-value").all_inner_texts(),
            strict=True,
        )
    )
    assert metrics["Input tokens"] == str(view["usage"]["input_tokens"])
    assert metrics["Output tokens"] == str(view["usage"]["output_tokens"])
    assert metrics["Total tokens"] == str(view["usage"]["total_tokens"])
    assert metrics["Latency"].endswith(("ms", "µs", "s"))
    bubbles = detail.locator('[data-section="conversation"] .bubble')
    messages = view["input_messages"] + view["output_messages"]
    assert bubbles.count() == len(messages)
    assert [bubbles.nth(i).get_attribute("data-role") for i in range(len(messages))] == [
        m["role"] for m in messages
    ]
    first_text = next(p["content"] for p in messages[0]["parts"] if p["type"] == "text")
    assert bubbles.first.locator(".bubble-text").first.inner_text().strip() == first_text.strip()
    calls = [p for m in messages for p in m["parts"] if p["type"] == "tool_call"]
    shown = detail.locator(".tool-call").all_inner_texts()
    assert len(shown) == len(calls)
    for call, text in zip(calls, shown, strict=True):
        assert call["name"] in text
    params = detail.locator('[data-section="parameters"]')
    for key in view["invocation_parameters"] or {}:
        assert params.locator(f'tr[data-key="{key}"]').count() == 1
    screenshot(page, "span-llm")


def test_retriever_span_shows_query_and_documents_in_order(page: Any, web: WebData) -> None:
    data = tool_trace(web, failing=False)  # the failing question retrieves no document
    retriever = spans_by_category(data)["retriever"]
    view = retriever["view"]
    detail = open_span(page, web, data["trace_id"], retriever["span_id"])
    assert detail.locator('[data-section="query"] pre').inner_text() == view["input"]
    cards = detail.locator('[data-section="documents"] .doc')
    assert cards.count() == len(view["documents"]) > 0
    for i, doc in enumerate(view["documents"]):
        card = cards.nth(i)
        assert card.locator(".rank").inner_text() == f"#{i + 1}"
        assert card.locator(".doc-id").inner_text() == doc["id"]
        assert card.locator(".score").inner_text() == f"{doc['score']:.4f}"
        assert card.locator(".doc-content").inner_text() == doc["content"]
        for key, value in (doc["metadata"] or {}).items():
            assert f"{key}: {value}" in card.locator(".doc-meta").inner_text()
    screenshot(page, "span-retriever")


def test_tool_span_shows_arguments_result_and_error(page: Any, web: WebData) -> None:
    data = tool_trace(web)
    tool = spans_by_category(data)["tool"]
    view = tool["view"]
    detail = open_span(page, web, data["trace_id"], tool["span_id"])
    assert view["tool"]["name"] in detail.locator('[data-section="tool"]').inner_text()
    arguments = detail.locator('[data-section="arguments"] pre').inner_text()
    assert json.loads(arguments) == view["tool"]["arguments"]
    error = detail.locator('[data-section="error"]')
    assert view["error"]["type"] in error.inner_text()
    assert "Traceback" in error.locator("pre.stack").inner_text()
    # Any span: attributes are searchable; ids can be copied.
    attributes = detail.locator('[data-section="attributes"]')
    attributes.locator("input.kv-filter").fill("gen_ai.tool.name")
    shown = attributes.locator("tbody tr:visible")
    assert shown.count() == 1
    assert shown.locator("th").inner_text() == "gen_ai.tool.name"
    ids = detail.locator('[data-section="ids"]').inner_text()
    assert tool["span_id"] in ids and data["trace_id"] in ids
    screenshot(page, "span-tool-error")

    data = tool_trace(web, failing=False)
    tool = spans_by_category(data)["tool"]
    detail = open_span(page, web, data["trace_id"], tool["span_id"])
    result = detail.locator('[data-section="result"] pre').inner_text()
    expected = tool["view"]["tool"]["result"]
    assert result == (expected if isinstance(expected, str) else json.dumps(expected, indent=2))
    assert detail.locator('[data-section="error"]').count() == 0
    screenshot(page, "span-tool")
