"""Browser fixtures: Debian's Chromium driven by Playwright for Python (never Playwright's own
browser download), one server per store (tests/conftest.py: ``store_kind``) filled with the
demo, XSS and huge traces for the session, the session's default server per store too, and
screenshots saved under $TRACEPOND_TEST_ARTIFACTS/web/ (default: test-artifacts/web/ in the
repository)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import StoreKind, TracepondProcess, per_store

from .data import huge_trace, run_demo, xss_trace

ARTIFACTS = (
    Path(
        os.environ.get("TRACEPOND_TEST_ARTIFACTS")
        or Path(__file__).resolve().parents[2] / "test-artifacts"
    )
    / "web"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("TRACEPOND_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so browser tests must run", pytrace=False)
    pytest.skip(f"{reason} (set CI=1 to make this a failure)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        _missing("no Chromium found: install Debian's package with `apt-get install -y chromium`")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class WebData:
    server: TracepondProcess
    demo: list[str]
    xss: dict[str, str]
    huge: str


@pytest.fixture(scope="module")
def tracepond_server(
    shared_server: Callable[[StoreKind], TracepondProcess], store_kind: StoreKind
) -> TracepondProcess:
    return shared_server(store_kind)


@pytest.fixture(scope="session")
def web_servers(
    launch_shared_tracepond: Callable[..., TracepondProcess],
) -> Callable[[StoreKind], WebData]:
    """``web_servers(store)``: the filled server of that store, filled on first use."""

    def filled(store: StoreKind) -> WebData:
        server = launch_shared_tracepond(store=store)
        huge = huge_trace(server)
        xss = xss_trace(server)
        demo = run_demo(server)
        return WebData(server, demo, xss, huge)

    return per_store(filled)


@pytest.fixture(scope="module")
def web(web_servers: Callable[[StoreKind], WebData], store_kind: StoreKind) -> WebData:
    return web_servers(store_kind)


@dataclass
class PageErrors:
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page; any JavaScript error, CSP violation or dialog fails the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    seen = PageErrors()
    tab.on("pageerror", lambda error: seen.errors.append(f"pageerror: {error}"))

    def on_console(message: Any) -> None:
        # A 404 that a page shows as a state (a missing trace, an API this server lacks) is
        # fine; every other console error (CSP violations included) fails the test.
        if message.type == "error" and "Failed to load resource" not in message.text:
            seen.errors.append(f"console error: {message.text}")

    tab.on("console", on_console)

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.errors = seen
    yield tab
    context.close()
    assert not seen.dialogs, f"a dialog opened: {seen.dialogs}"
    assert not seen.errors, "\n".join(seen.errors)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
