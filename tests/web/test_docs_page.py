"""/docs renders the API reference from this server alone: the operations of /openapi.json
are listed, and the browser asked nothing of any other origin (the CSP would block it, and a
server must not depend on a CDN)."""

from __future__ import annotations

from typing import Any

from conftest import TracepondProcess


def test_docs_page_lists_the_operations_without_external_requests(
    tracepond_server: TracepondProcess, page: Any
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{tracepond_server.url}/docs")
    page.wait_for_selector('[data-operation="GET /api/traces/{trace_id}"]')
    operations = page.locator("[data-operation]")
    spec = tracepond_server.get_json("/openapi.json")
    expected = sum(
        1
        for item in spec["paths"].values()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    )
    assert operations.count() == expected
    page.locator('[data-operation="GET /api/traces"] summary').click()
    assert page.locator('[data-operation="GET /api/traces"] code', has_text="limit").count()
    outside = [url for url in requested if not url.startswith(tracepond_server.url)]
    assert outside == [], outside


def test_redoc_leads_to_the_docs_page(tracepond_server: TracepondProcess) -> None:
    response = tracepond_server.client.get("/redoc", follow_redirects=True)
    assert response.status_code == 200
    assert str(response.url).endswith("/docs")
    assert '<script type="module" src="/static/js/docs.js">' in response.text
