"""XSS payloads in every field a span can carry never run; a 20,000-span trace opens and
scrolls while rendering only what is visible, through the skeleton endpoint."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS, WebData, screenshot
from .data import HUGE_SPANS, XSS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def assert_inert(page: Any) -> None:
    """Nothing ran and no payload became an element."""
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("img, iframe, svg:not(.chart), #xss-link, b[onmouseover]").count() == 0
    scripts = page.locator("script").evaluate_all("els => els.map(e => e.getAttribute('src'))")
    assert scripts == ["/static/js/main.js"]


def test_xss_payloads_show_as_text_and_never_run(page: Any, web: WebData) -> None:
    x = web.xss
    page.goto(web.server.url + "/")
    row = page.locator(f'tr[data-trace-id="{x["trace_id"]}"]')
    expect(row.locator("td.name a")).to_have_text(XSS["name"])
    expect(row.locator("td.service")).to_have_text(XSS["service"])
    session = row.locator("td.session a")
    expect(session).to_have_text(XSS["session"])
    assert (session.get_attribute("href") or "").startswith("/sessions/javascript")
    assert_inert(page)
    screenshot(page, "xss-traces")

    for role, section in (
        ("root", "attributes"),
        ("llm", "conversation"),
        ("retriever", "documents"),
        ("tool", "error"),
    ):
        page.goto(f"{web.server.url}/traces/{x['trace_id']}?span={x[role]}")
        detail = page.locator(f'.detail[data-span-id="{x[role]}"]')
        detail.locator('[data-section="resource"]').wait_for()
        text = detail.locator(f'[data-section="{section}"]').inner_text()
        for button in detail.locator(".doc button.link").all():
            button.click()  # expand document contents
        expected = {
            "root": [XSS["attr"], XSS["session"]],
            "llm": [XSS["message"], XSS["tool_call"]],
            "retriever": [XSS["doc"], XSS["meta"], XSS["name"]],
            "tool": [XSS["status"], XSS["stack"]],
        }[role]
        for payload in expected:
            assert payload in text, (role, payload, text)
        assert_inert(page)
        screenshot(page, f"xss-{role}")
        if role == "llm":  # time to first token, from the attribute the SDK records
            ttft = detail.locator(".metric", has_text="Time to first token")
            expect(ttft.locator(".metric-value")).to_have_text("4.20ms")
    assert page.locator(".trace-head h1").inner_text() == XSS["name"]
    assert page.title().startswith(XSS["name"])


def test_huge_trace_opens_and_scrolls_rendering_only_what_is_visible(
    page: Any, web: WebData
) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url.split(web.server.url, 1)[-1]))
    started = time.monotonic()
    page.goto(f"{web.server.url}/traces/{web.huge}")
    page.locator(".tl-row[data-span-id]").first.wait_for(timeout=60_000)
    first_render = time.monotonic() - started
    rendered_ms = page.evaluate("() => Number(document.body.dataset.renderedMs)")
    # The top of the trace first, the rest of the skeleton in the background.
    page.locator('.trace-page[data-loaded="complete"]').wait_for(timeout=60_000)
    complete = time.monotonic() - started
    loaded_ms = page.evaluate("() => Number(document.body.dataset.loadedMs)")
    # The skeleton, not the full tree; span payloads only on selection.
    api = [r for r in requests if r.startswith("/api/")]
    skeleton = f"/api/traces/{web.huge}/skeleton"
    assert [r for r in api if r.startswith(skeleton)] == [
        f"{skeleton}?limit=500",
        f"{skeleton}?cursor=500&limit=100000",
    ], api
    assert f"/api/traces/{web.huge}" not in api, api
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {
        "spans": HUGE_SPANS,
        "via": "GET /api/traces/{id}/skeleton",
        "first_render_s": round(first_render, 3),
        "page_ms": rendered_ms,
        "all_spans_loaded_s": round(complete, 3),
        "all_spans_loaded_page_ms": loaded_ms,
        "previous_full_tree_s": 3.4,
    }
    (ARTIFACTS / "huge-trace-timing.json").write_text(json.dumps(report, indent=2))
    print(f"\n20,000-span trace: first render {first_render:.2f}s after navigation ({report})")
    screenshot(page, "huge-trace")

    rows = page.locator(".tl-body .tl-row")
    assert 0 < rows.count() < 200, "only the visible rows are in the DOM"
    spacer = page.locator(".tl-spacer").evaluate("e => e.getBoundingClientRect().height")
    assert spacer == HUGE_SPANS * 24
    # Scroll through the whole trace in steps; each frame shows the rows at that position.
    body = page.locator(".tl-body")
    for fraction in (0.25, 0.5, 0.75, 1.0):
        body.evaluate(f"b => {{ b.scrollTop = (b.scrollHeight - b.clientHeight) * {fraction}; }}")
        page.wait_for_timeout(50)
        first_index = int(rows.first.get_attribute("data-index") or 0)
        assert first_index >= int((HUGE_SPANS - 40) * fraction) - 60, (fraction, first_index)
        assert rows.count() < 200
    body.focus()
    page.keyboard.press("End")
    expect(page.locator(".tl-row.selected")).to_have_attribute("data-index", str(HUGE_SPANS - 1))
    last = page.locator(".tl-row.selected").get_attribute("data-span-id")
    page.locator(f'.detail[data-span-id="{last}"] [data-section="attributes"]').wait_for()
    assert f"/api/traces/{web.huge}/spans/{last}" in requests
    fetched = [r for r in requests if "/spans/" in r]
    assert len(fetched) <= 3, f"payloads are fetched only for selected spans: {fetched}"
    screenshot(page, "huge-trace-end")
