"""The web view's HTTP side without a browser: page routes, static files, security headers, and
static checks that no module writes markup from strings."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import TracepondProcess
from tracepond.web import CONTENT_SECURITY_POLICY, SKELETON_PAGE, STATIC

PAGES = [
    "/",
    "/traces",
    "/traces/5b8efff798038103d269b633813fc60c",
    "/sessions",
    "/sessions/some-session",
    "/dashboard",
]
JS_FILES = sorted(STATIC.rglob("*.js"))


def test_csp_is_strict() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


@pytest.mark.parametrize("path", PAGES)
def test_pages_serve_the_shell_with_security_headers(
    tracepond_server: TracepondProcess, path: str
) -> None:
    response = tracepond_server.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert '<script type="module" src="/static/js/main.js">' in response.text


def test_api_and_static_responses_carry_the_headers_too(tracepond_server: TracepondProcess) -> None:
    for path in ("/api/traces", "/static/js/main.js", "/static/css/app.css", "/static/nope.js"):
        response = tracepond_server.get(path)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert response.headers["x-content-type-options"] == "nosniff", path
    js = tracepond_server.get("/static/js/main.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert tracepond_server.get("/static/nope.js").status_code == 404
    # The API keeps its JSON error shape next to the page routes.
    # An id no test writes: the server is shared by the whole session.
    missing = tracepond_server.get(f"/api/traces/{os.urandom(16).hex()}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_trace_page_preloads_the_compact_skeleton_it_fetches(
    tracepond_server: TracepondProcess,
) -> None:
    """The trace page's shell names the skeleton in a Link header, so the browser asks for it
    with the page; it is the URL api.js fetches (the browser then uses the preloaded answer)."""
    trace = "5B8EFFF798038103D269B633813FC60C"
    response = tracepond_server.get(f"/traces/{trace}")
    url = f"/api/traces/{trace.lower()}/skeleton/compact?limit={SKELETON_PAGE}"
    assert response.headers["link"] == f"<{url}>; rel=preload; as=fetch; crossorigin"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    api = (STATIC / "js" / "api.js").read_text()
    assert f"SKELETON_PAGE = {SKELETON_PAGE};" in api
    assert "/skeleton/compact`" in api
    for path in ("/traces/not-a-trace-id", "/traces", "/", "/dashboard"):
        assert "link" not in tracepond_server.get(path).headers, path


def test_every_module_the_pages_import_is_served(tracepond_server: TracepondProcess) -> None:
    imports = re.compile(r"""(?:from|import)\s*\(?\s*["'](\.{1,2}/[^"']+)["']""")
    for path in JS_FILES:
        for target in imports.findall(path.read_text()):
            resolved = (path.parent / target).resolve()
            assert resolved.is_file(), f"{path.name} imports missing {target}"
            url = "/static/" + resolved.relative_to(STATIC).as_posix()
            assert tracepond_server.get(url).status_code == 200, url


class _Shell(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style" or "style" in names or any(n.startswith("on") for n in names):
            self.problems.append(f"inline style or handler on <{tag}>")
        if tag == "script":
            self.in_script = True
            if "src" not in names:
                self.problems.append("inline <script>")
        for name, value in attrs:
            if name in ("src", "href") and value and re.match(r"^(https?:)?//", value):
                self.problems.append(f"external resource {value}")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False if tag == "script" else self.in_script

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append("inline script body")


def test_shell_has_no_inline_code_and_no_cdn() -> None:
    parser = _Shell()
    parser.feed((STATIC / "index.html").read_text())
    assert parser.problems == []


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.relative_to(STATIC).as_posix())
def test_modules_never_build_markup_from_strings(path: Path) -> None:
    source = path.read_text()
    forbidden = r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    assert not re.search(forbidden, source), f"{path.name} writes markup or evaluates strings"
    external = re.search(r"https?://(?!www\.w3\.org/2000/svg)", source)  # the SVG namespace
    assert not external, f"{path.name} references an external URL"
    assert 'setAttribute("style"' not in source and "cssText" not in source
