"""What a new user meets in the first hour, in a real Chromium: a traces list that says what each
trace was about, an LLM span whose conversation comes first, readable tool definitions, no
OpenTelemetry jargon, cost with its source, the live indicator's real state, a dashboard that
opens on the data, and a trace page that still works at 1024 px."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from conftest import StoreKind, TracepondProcess
from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id

from .conftest import WebData, screenshot
from .data import MS, post, wait_for
from .test_pages import open_span, spans_by_category, tool_trace, tree

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1440, 1024)


def root_input(web: WebData, trace: str) -> str:
    return str(tree(web, trace)["roots"][0]["view"]["input"])


def preview(text: str) -> str:
    """The list's preview of a root's input or output: its first line, at most 200 characters."""
    line = " ".join(text.strip().splitlines()[0].split())
    return line if len(line) <= 200 else line[:199].rstrip() + "…"


def test_traces_list_shows_input_output_user_and_tags(page: Any, web: WebData) -> None:
    page.goto(web.server.url + "/")
    for trace in web.demo:
        row = page.locator(f'tr[data-trace-id="{trace}"]')
        expect(row.locator(".io-in")).to_have_text(preview(root_input(web, trace)))
        output = str(tree(web, trace)["roots"][0]["view"]["output"])
        expect(row.locator(".io-out")).to_have_text(preview(output))
        user = tree(web, trace)["summary"]["user_id"]
        expect(row.locator("td.session .user")).to_have_text(user)
        expect(row.locator(".chip.tag")).to_have_text(["demo"])
    # Different questions read differently, although every root has the same name.
    shown = page.locator("tr .io-in").all_inner_texts()
    assert len(set(shown)) >= len(web.demo) - 1
    # Long names and previews are whole on hover.
    first = page.locator(f'tr[data-trace-id="{web.demo[0]}"]')
    assert first.locator(".trace-title a").first.get_attribute("title") == "demo question"
    assert first.locator(".io-in").get_attribute("title") == root_input(web, web.demo[0])
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"traces-list-{width}")


def sections(detail: Any) -> list[str]:
    return list(detail.locator("[data-section]").evaluate_all("s => s.map(e => e.dataset.section)"))


def test_llm_span_shows_the_conversation_first_and_tools_as_indented_json(
    page: Any, web: WebData
) -> None:
    data = tool_trace(web, failing=False)
    llm = spans_by_category(data)["llm"]
    detail = open_span(page, web, data["trace_id"], llm["span_id"])
    order = sections(detail)
    assert order.index("conversation") < order.index("llm") < order.index("parameters"), order
    # Above the fold: the conversation starts within the first screen of the panel.
    top = detail.locator('[data-section="conversation"]').bounding_box()
    assert top is not None and top["y"] < 900 / 2
    definitions = json.loads(llm["attributes"]["gen_ai.tool.definitions"])
    tools = detail.locator('[data-section="tools"] .tool-def')
    expect(tools).to_have_count(len(definitions))
    expect(tools.first).to_have_attribute("open", "")  # short enough to show opened
    text = tools.first.locator("pre").inner_text()
    assert json.loads(text) == definitions[0]
    assert "\n  " in text, "indented, one key a line"
    expect(tools.first.locator("summary")).to_contain_text("get_weather")
    # The same definitions in the attributes and parameters: indented too, not one raw line.
    # (collapsed when long: text_content reads them closed)
    params = detail.locator('[data-section="parameters"] tr[data-key="tools"] pre')
    assert json.loads(params.text_content()) == definitions
    assert params.text_content().count("\n") > 5
    attribute = detail.locator('[data-section="attributes"] tr[data-key="gen_ai.tool.definitions"]')
    assert attribute.locator("pre").text_content().count("\n") > 5
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"span-llm-{width}")


def plain_trace(server: TracepondProcess) -> dict[str, str]:
    """What a plain ``@trace`` function sends: no kind of step, status unset, kind INTERNAL."""
    tid, root, child = trace_id(), span_id(), span_id()
    now = BASE_NS  # in the past: the shared server's newest traces stay the demo's
    spans = [
        make_span(tid, root, "handle_request", start=now, end=now + 5 * MS),
        make_span(tid, child, "parse", parent=root, start=now + MS, end=now + 2 * MS),
    ]
    post(server, spans, service="plain")
    wait_for(server, [tid.hex()], spans=2)
    return {"trace": tid.hex(), "root": root.hex(), "child": child.hex()}


def test_a_plain_function_span_reads_without_opentelemetry_jargon(page: Any, web: WebData) -> None:
    ids = plain_trace(web.server)
    detail = open_span(page, web, ids["trace"], ids["child"])
    head = detail.locator(".detail-head").inner_text().lower()
    for jargon in ("unset", "unknown", "internal", "unspecified"):
        assert jargon not in head, head
    expect(detail.locator(".chip.cat")).to_have_text("step")
    tree_text = page.locator(".tl-body").inner_text().lower()
    assert "unknown" not in tree_text
    assert page.locator(".tl-row .cat").first.inner_text().lower() == "step"
    assert "unknown" not in page.locator(".legend").inner_text().lower()


def test_cost_says_where_it_came_from(page: Any, web: WebData) -> None:
    data = tool_trace(web, failing=False)
    llm = spans_by_category(data)["llm"]
    path = f"**/api/traces/{data['trace_id']}/spans/{llm['span_id']}"

    def with_cost(route: Any) -> None:
        # The API's cost fields (computed cost and its price entry), as a server with price
        # tables sends them.
        body = route.fetch().json()
        body["view"]["cost"] = 0.0021
        body["view"]["cost_source"] = "computed"
        body["view"]["cost_price"] = "genai-prices:openai/gpt-4o-mini"
        route.fulfill(json=body)

    page.route(path, with_cost)
    detail = open_span(page, web, data["trace_id"], llm["span_id"])
    cost = detail.locator(".detail-head .fact", has_text="Cost")
    expect(cost).to_contain_text("$0.0021 · computed from genai-prices openai/gpt-4o-mini")
    expect(detail.locator(".cost-source")).to_contain_text("genai-prices openai/gpt-4o-mini")

    page.unroute(path)

    def sent(route: Any) -> None:
        body = route.fetch().json()
        body["view"]["cost"] = 0.5
        body["view"]["cost_source"] = "sent"
        route.fulfill(json=body)

    page.route(path, sent)
    detail = open_span(page, web, data["trace_id"], llm["span_id"])
    expect(detail.locator(".detail-head .fact", has_text="Cost")).to_contain_text(
        "$0.5 · sent by the producer"
    )


def test_live_indicator_shows_paused_while_a_query_error_stops_polling(
    page: Any, web: WebData
) -> None:
    page.goto(web.server.url + "/?q=" + "%7B%20status%20%3D%20%7D")
    expect(page.locator(".query-error")).not_to_be_empty()
    live = page.locator("#live")
    expect(live).to_have_text("❚❚ paused")
    expect(live).to_have_attribute("title", "Polling paused until the query is fixed")
    page.wait_for_timeout(2500)  # a poll tick passes: still paused, not "live"
    expect(live).to_have_text("❚❚ paused")
    page.fill("input.query", "{ status = error }")
    page.press("input.query", "Enter")
    expect(live).to_have_text("● live")


def test_dashboard_opens_on_the_recent_data_with_names_whole(
    page: Any, start_tracepond: Callable[..., TracepondProcess], store_kind: StoreKind
) -> None:
    server = start_tracepond(store=store_kind)
    now = time.time_ns()
    long_name = "retrieve_documents_from_the_customer_knowledge_base_with_reranking_and_filters"
    traces = []
    for minutes_ago in (24, 17, 10, 3):
        tid, root = trace_id(), span_id()
        start = now - minutes_ago * 60 * 10**9
        spans = [
            make_span(tid, root, "agent", start=start, end=start + 5 * MS),
            make_span(tid, span_id(), long_name, parent=root, start=start, end=start + 4 * MS),
        ]
        post(server, spans, service="recent")
        traces.append(tid.hex())
    wait_for(server, traces, spans=2)
    page.goto(server.url + "/dashboard")
    columns = page.locator('[data-chart="over-time"] g.column')
    expect(columns.first).to_be_attached()
    counts = columns.evaluate_all("cs => cs.map(c => Number(c.dataset.count))")
    assert sum(counts) == 4
    assert len([c for c in counts if c]) == 4, "one column a trace, not one column for all"
    expect(page.locator(".ranges a.active")).to_have_text("Last 1h")
    name = page.locator(f'[data-chart="slowest-spans"] tr[data-label="{long_name}"] th')
    expect(name).to_have_text(long_name)
    clipped = name.evaluate("e => e.scrollWidth > e.clientWidth + 1")
    assert not clipped, "the whole name is shown"
    screenshot(page, "dashboard-default")


def test_trace_page_at_1024_px_has_a_usable_waterfall(page: Any, web: WebData) -> None:
    page.set_viewport_size({"width": 1024, "height": 768})
    data = tool_trace(web)
    page.goto(f"{web.server.url}/traces/{data['trace_id']}")
    page.wait_for_selector(".tl-row[data-span-id]")
    axis = page.locator(".tl-head .tl-axis")
    box = axis.bounding_box()
    assert box is not None and box["width"] >= 200, box
    ticks = axis.locator(".tick")
    expect(ticks.first).to_be_attached()
    boxes = [ticks.nth(i).bounding_box() for i in range(ticks.count())]
    assert len(boxes) >= 2 and all(b is not None for b in boxes)
    boxes.sort(key=lambda b: b["x"])  # type: ignore[index]
    for left, right in itertools.pairwise(boxes):
        assert left["x"] + left["width"] <= right["x"], f"labels overlap: {boxes}"  # type: ignore[index]
    # The labels stay inside the waterfall's column (not over the cost column or off the edge).
    row = page.locator(".tl-head").bounding_box()
    assert row is not None
    assert boxes[0]["x"] >= box["x"] - 1  # type: ignore[index]
    assert boxes[-1]["x"] + boxes[-1]["width"] <= row["x"] + row["width"] + 1  # type: ignore[index]
    bar = page.locator(f'.tl-row[data-span-id="{data["roots"][0]["span_id"]}"] .bar')
    bar_box = bar.bounding_box()
    assert bar_box is not None and bar_box["width"] >= 200
    # No bar's duration label spills over the numbers' columns (a root spanning the whole
    # axis put its label over the cost column).
    for row_locator in page.locator(".tl-row[data-span-id]").all():
        cost_cell = row_locator.locator(".num").last.bounding_box()
        label = row_locator.locator(".bar-label").bounding_box()
        assert cost_cell is not None and label is not None
        assert label["x"] >= cost_cell["x"] + cost_cell["width"] - 1, (label, cost_cell)
    # Costs read as dollars, not in scientific notation.
    costs = page.locator(".tl-row[data-span-id] .num").all_inner_texts()
    assert any(text.startswith("$0.0000") for text in costs), costs
    assert not any("e-" in text for text in costs), costs
    screenshot(page, "trace-1024")
