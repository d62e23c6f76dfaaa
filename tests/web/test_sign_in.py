"""Chromium against a server that needs API keys: sign in with a read key, browse, sign out;
the session cookie's flags; a cross-site form post is refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from playwright.sync_api import expect

from auth.keys import bearer, create_key, initial_admin_key
from conftest import TracepondProcess

COOKIE = "tracepond_session"
TIMEOUT_MS = 30_000


@contextmanager
def attacker_site(html: str) -> Iterator[str]:
    """Another site (``localhost`` is not the same site as ``127.0.0.1``) serving ``html``."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_address[1]}/evil.html"
    finally:
        server.shutdown()


def key_ids(server: TracepondProcess, admin: str) -> list[str]:
    keys = httpx.get(f"{server.url}/api/keys", headers=bearer(admin)).json()["keys"]
    return [key["id"] for key in keys]


def session(value: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE}={value}"}


def test_sign_in_browse_sign_out(
    browser: Any, start_tracepond: Callable[..., TracepondProcess]
) -> None:
    server = start_tracepond("--auth", "on", env={"TRACEPOND_AUTH_FAILURES_PER_MINUTE": "1000"})
    admin = initial_admin_key(server)
    read = create_key(server, admin, scope="read", project="default", name="reader")["key"]
    ingest = create_key(server, admin, scope="ingest", project="default", name="app")["key"]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{server.url}/sessions")
        page.wait_for_url("**/signin?next=%2Fsessions")
        # An ingest key cannot sign in; the page says why and stays.
        page.fill("#key", ingest)
        page.click("button[type=submit]")
        # A locator assertion, not wait_for_function("..."): an expression string is evaluated
        # with eval() while it polls, which the page's CSP refuses (a flaky failure).
        expect(page.locator("#signin-error")).to_contain_text("read key")
        page.fill("#key", read)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/sessions")
        page.wait_for_selector("#signout")
        assert page.text_content(".whoami") == "reader"

        cookie = next(c for c in context.cookies() if c["name"] == COOKIE)
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert cookie["secure"] is False  # plain HTTP here; Secure under TLS
        assert time.time() < cookie["expires"] <= time.time() + 12 * 3600 + 60
        assert read not in cookie["value"]
        assert COOKIE not in page.evaluate("document.cookie")

        page.click("a[data-nav=traces]")
        page.wait_for_url(f"{server.url}/")
        page.wait_for_selector("main#app :not(.muted)")
        assert server.client.get("/api/traces", headers=session(cookie["value"])).status_code == 200

        # The cookie alone cannot change anything from another origin.
        cross = server.client.delete(
            "/api/session",
            headers={
                **session(cookie["value"]),
                "Origin": "http://evil.example",
                "Sec-Fetch-Site": "cross-site",
            },
        )
        assert cross.status_code == 403

        page.click("#signout")
        page.wait_for_url("**/signin")
        assert not [c for c in context.cookies() if c["name"] == COOKIE]
        assert server.client.get("/api/traces", headers=session(cookie["value"])).status_code == 401
        page.goto(f"{server.url}/dashboard")
        page.wait_for_url("**/signin?next=%2Fdashboard")
    finally:
        context.close()


def test_a_cross_site_form_post_is_refused(
    browser: Any, start_tracepond: Callable[..., TracepondProcess]
) -> None:
    server = start_tracepond("--auth", "on", env={"TRACEPOND_AUTH_FAILURES_PER_MINUTE": "1000"})
    admin = initial_admin_key(server)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{server.url}/signin")
        page.fill("#key", admin)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        before = key_ids(server, admin)
        form = (
            f'<form id="f" method="post" action="{server.url}/api/keys"'
            ' enctype="text/plain"><input name=\'{"scope":"admin","x":"\' value=\'"}\'></form>'
            '<script>document.getElementById("f").submit()</script>'
        )
        with attacker_site(form) as evil:
            with page.expect_response(f"{server.url}/api/keys") as answer:
                page.goto(evil)
            assert answer.value.status in (401, 403)
        assert key_ids(server, admin) == before
    finally:
        context.close()
