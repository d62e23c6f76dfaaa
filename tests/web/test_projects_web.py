"""The web view reads one project: `?project=` in every page's URL and every API call, links
that keep it, a switcher in the header, and with a key bound to a project that project only
(no 403 on the way). Two projects hold the same trace id with different root names, so a page
showing the wrong project's trace is caught, not just an empty one."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auth.keys import bearer, create_key, initial_admin_key
from conftest import StoreKind, TracepondProcess
from ingest.otlp_build import make_request, make_span, span_id, trace_id

PROJECTS = ("alpha", "beta")
DASHBOARD_DRAWN = "() => document.querySelector('.dashboard-page')?.dataset.range"
POLLED = (
    "n => performance.getEntriesByType('resource')"
    ".filter(e => e.name.includes('/api/traces')).length >= n"
)
MS = 1_000_000


@dataclass
class Projects:
    server: TracepondProcess
    shared: str  # one trace id in every project, root named "<project>-root"
    only: dict[str, str]  # project -> a trace id only that project holds
    headers: dict[str, str]  # what the requests of the test need (an admin key with auth on)


def fill(server: TracepondProcess, headers: dict[str, str] | None = None) -> Projects:
    """alpha and beta (created), each with the shared trace and one of its own, each trace in a
    session named after the project; `default` holds one trace too."""
    headers = headers or {}
    now = time.time_ns() - 60_000 * MS  # a minute ago: inside the dashboard's first range
    shared, root = trace_id(), span_id()
    only: dict[str, str] = {}
    for name in PROJECTS:
        response = server.client.post("/api/projects", json={"name": name}, headers=headers)
        assert response.status_code == 201, response.text
        own = trace_id()
        spans = [
            make_span(shared, root, f"{name}-root", start=now, end=now + 20 * MS,
                      attributes={"session.id": f"{name}-session"}),
            make_span(own, span_id(), f"{name}-own", start=now + MS, end=now + 5 * MS,
                      attributes={"session.id": f"{name}-session"}),
        ]  # fmt: skip
        body = make_request(spans, service=f"{name}-svc").SerializeToString()
        response = server.post_otlp(body, **headers, **{"x-tracepond-project": name})
        assert response.status_code == 200, response.text
        only[name] = own.hex()
    default_trace = trace_id()
    body = make_request([make_span(default_trace, span_id(), "default-root", start=now)])
    assert server.post_otlp(body.SerializeToString(), **headers).status_code == 200
    arrived = {"default": default_trace.hex(), **only}
    deadline = time.monotonic() + 60
    for name, trace in arrived.items():
        url, params = f"/api/traces/{trace}", {"project": name}
        while server.client.get(url, params=params, headers=headers).status_code != 200:
            assert time.monotonic() < deadline, f"{name}'s trace did not arrive"
            time.sleep(0.2)
    return Projects(server, shared.hex(), only, headers)


@pytest.fixture(scope="module")
def projects(
    launch_module_tracepond: Callable[..., TracepondProcess], store_kind: StoreKind
) -> Projects:
    return fill(launch_module_tracepond(store=store_kind))


def project_of(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("project")
    return values[0] if values else None


def api_requests(page: Any) -> list[str]:
    """Every /api/ and /openapi.json request the page makes from now on."""
    seen: list[str] = []

    def record(request: Any) -> None:
        path = urlsplit(request.url).path
        if (path.startswith("/api/") and path != "/api/session") or path == "/openapi.json":
            seen.append(request.url)

    page.on("request", record)
    return seen


def attribute_of_all(page: Any, selector: str, attribute: str) -> list[str]:
    script = f"els => els.map(e => e.getAttribute({attribute!r}))"
    return list(page.eval_on_selector_all(selector, script))


def row_ids(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all("tr[data-trace-id]", "rows => rows.map(r => r.dataset.traceId)")
    )


def options(page: Any) -> list[str]:
    return list(page.eval_on_selector_all("#project option", "os => os.map(o => o.value)"))


def test_switcher_lists_the_projects_and_switching_shows_only_the_others_traces(
    page: Any, projects: Projects
) -> None:
    server = projects.server
    page.goto(f"{server.url}/")
    page.wait_for_selector("tr[data-trace-id]")
    assert "default-root" in page.text_content("table.traces")
    assert projects.only["beta"] not in row_ids(page)
    page.wait_for_selector("#project")
    assert set(options(page)) == {"default", "alpha", "beta"}
    assert page.input_value("#project") == "default"

    requests = api_requests(page)
    page.select_option("#project", "beta")
    page.wait_for_url(f"{server.url}/?project=beta")
    page.wait_for_selector(f'tr[data-trace-id="{projects.only["beta"]}"]')
    assert row_ids(page) == {projects.shared, projects.only["beta"]}
    table = page.text_content("table.traces")
    assert "beta-root" in table and "alpha" not in table and "default-root" not in table
    assert page.input_value("#project") == "beta"
    # The header's links and every API call the page made stay in beta.
    for link in ("a.brand", 'a[data-nav="sessions"]', 'a[data-nav="dashboard"]'):
        assert project_of(page.get_attribute(link, "href")) == "beta", link
    assert requests and all(project_of(url) == "beta" for url in requests), requests


def test_filters_and_live_polling_keep_the_project_and_switching_resets_filters(
    page: Any, projects: Projects
) -> None:
    server = projects.server
    requests = api_requests(page)
    page.goto(f"{server.url}/?project=alpha&service=alpha-svc")
    page.wait_for_selector(f'tr[data-trace-id="{projects.only["alpha"]}"]')
    # A filter changed in the page keeps the project in the URL; live polling (every 2 s) asks
    # in alpha too.
    page.fill('input[name="service"]', "nothing-svc")
    page.press('input[name="service"]', "Enter")
    page.wait_for_url(re.compile(r"service=nothing-svc"))
    assert project_of(page.url) == "alpha"
    page.wait_for_function(POLLED, arg=3, timeout=30_000)
    assert all(project_of(url) == "alpha" for url in requests), requests
    page.select_option("#project", "beta")
    page.wait_for_url(f"{server.url}/?project=beta")  # filters reset: nothing but the project
    page.wait_for_selector(f'tr[data-trace-id="{projects.only["beta"]}"]')


def test_a_trace_link_in_beta_opens_betas_trace_and_back_returns_to_beta(
    page: Any, projects: Projects
) -> None:
    server = projects.server
    page.goto(f"{server.url}/?project=beta")
    page.click(f'tr[data-trace-id="{projects.shared}"] .trace-title a')
    page.wait_for_url(re.compile(rf"/traces/{projects.shared}\?project=beta$"))
    page.wait_for_selector(".tl-row[data-span-id]")
    assert "beta-root" in page.title()
    assert "alpha-root" not in page.text_content("#app")
    # Selecting a span keeps the project in the URL; so does the span's session link.
    page.click(".tl-row[data-span-id]")
    page.wait_for_url(re.compile(r"span="))
    assert project_of(page.url) == "beta"
    page.go_back()
    page.wait_for_url(f"{server.url}/?project=beta")
    page.wait_for_selector(f'tr[data-trace-id="{projects.only["beta"]}"]')
    assert page.input_value("#project") == "beta"


def test_sessions_and_dashboard_follow_the_project(page: Any, projects: Projects) -> None:
    server = projects.server
    requests = api_requests(page)
    page.goto(f"{server.url}/sessions?project=alpha")
    page.wait_for_selector("tr[data-session-id]")
    sessions = page.eval_on_selector_all(
        "tr[data-session-id]", "rs => rs.map(r => r.dataset.sessionId)"
    )
    assert sessions == ["alpha-session"]
    page.click('tr[data-session-id="alpha-session"] a')
    page.wait_for_url(f"{server.url}/sessions/alpha-session?project=alpha")
    page.wait_for_selector(".trace-link")
    links = page.eval_on_selector_all(".trace-link", "ls => ls.map(l => l.textContent)")
    assert sorted(links) == ["alpha-own →", "alpha-root →"]
    assert all(project_of(h) == "alpha" for h in attribute_of_all(page, ".trace-link", "href"))

    # Switching on a sessions page opens beta's sessions.
    page.wait_for_selector("#project")
    page.select_option("#project", "beta")
    page.wait_for_url(f"{server.url}/sessions?project=beta")
    page.wait_for_selector('tr[data-session-id="beta-session"]')

    page.click('a[data-nav="dashboard"]')
    page.wait_for_url(f"{server.url}/dashboard?project=beta")
    page.wait_for_selector('[data-stat="traces"]')
    assert page.text_content('[data-stat="traces"] b') == "2"
    page.wait_for_function(DASHBOARD_DRAWN)
    for link in attribute_of_all(page, ".ranges a", "href"):
        assert project_of(link) == "beta", link
    assert requests and all(project_of(url) in ("alpha", "beta") for url in requests), requests
    assert any("/api/stats" in url and project_of(url) == "beta" for url in requests)


def test_a_project_that_cannot_be_read_says_so_in_the_page(page: Any, projects: Projects) -> None:
    page.goto(f"{projects.server.url}/?project=gamma")
    page.wait_for_selector(".notice-error")
    assert "gamma" in page.text_content(".notice-error")


@pytest.fixture(scope="module")
def keyed(
    launch_module_tracepond: Callable[..., TracepondProcess], store_kind: StoreKind
) -> tuple[Projects, str, str]:
    server = launch_module_tracepond(
        "--auth", "on", env={"TRACEPOND_AUTH_FAILURES_PER_MINUTE": "1000"}, store=store_kind
    )
    admin = initial_admin_key(server)
    filled = fill(server, bearer(admin))
    reader = create_key(server, admin, scope="read", project="beta", name="beta-reader")["key"]
    return filled, admin, reader


def sign_in(page: Any, server: TracepondProcess, key: str, path: str = "/") -> None:
    page.goto(f"{server.url}{path}")
    page.wait_for_url(re.compile(r"/signin\?next="))
    page.fill("#key", key)
    page.click("button[type=submit]")


def test_signed_in_with_betas_read_key_the_view_opens_on_beta_without_a_403(
    page: Any, keyed: tuple[Projects, str, str]
) -> None:
    projects, _, reader = keyed
    server = projects.server
    statuses: list[tuple[int, str]] = []
    page.on("response", lambda r: statuses.append((r.status, r.url)))
    sign_in(page, server, reader)
    page.wait_for_url(f"{server.url}/?project=beta")
    page.wait_for_selector(f'tr[data-trace-id="{projects.only["beta"]}"]')
    assert row_ids(page) == {projects.shared, projects.only["beta"]}
    page.wait_for_selector("#project")
    assert options(page) == ["beta"]
    # Through the pages a reader uses: a trace, the sessions, a session, the dashboard.
    page.click(f'tr[data-trace-id="{projects.shared}"] .trace-title a')
    page.wait_for_url(re.compile(rf"/traces/{projects.shared}\?project=beta$"))
    page.wait_for_selector(".tl-row[data-span-id]")
    page.click(".tl-row[data-span-id]")
    page.wait_for_selector('.detail [data-section="resource"]')
    page.click('a[data-nav="sessions"]')
    page.wait_for_selector('tr[data-session-id="beta-session"]')
    page.click('tr[data-session-id="beta-session"] a')
    page.wait_for_selector(".trace-link")
    page.click('a[data-nav="dashboard"]')
    page.wait_for_url(f"{server.url}/dashboard?project=beta")
    page.wait_for_function(DASHBOARD_DRAWN)
    page.wait_for_load_state("networkidle")
    refused = [(status, url) for status, url in statuses if status in (401, 403)]
    assert not refused, refused
    assert "alpha" not in page.text_content("body")


def test_a_wrong_project_shows_a_clear_message_not_a_blank_page(
    page: Any, keyed: tuple[Projects, str, str]
) -> None:
    projects, _, reader = keyed
    sign_in(page, projects.server, reader, "/?project=alpha")
    page.wait_for_url(f"{projects.server.url}/?project=alpha")
    message = page.locator(".notice-error")
    message.wait_for()
    text = message.text_content()
    assert "may not read project “alpha”" in text, text
    assert page.get_attribute("#live", "data-state") == "paused"


def test_api_projects_lists_only_the_projects_a_key_may_read(
    keyed: tuple[Projects, str, str],
) -> None:
    projects, admin, reader = keyed
    client = projects.server.client

    def names(key: str, **params: str) -> list[str]:
        response = client.get("/api/projects", params=params, headers=bearer(key))
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["projects"]]

    assert names(reader) == ["beta"]
    assert names(reader, project="beta") == ["beta"]
    assert sorted(names(admin)) == ["alpha", "beta", "default"]
    # Nor one project's counts by name, whether it exists or not.
    for other in ("alpha", "nonexistent"):
        response = client.get(
            f"/api/projects/{other}", params={"project": "beta"}, headers=bearer(reader)
        )
        assert response.status_code == 403, response.text
        assert "span_count" not in response.text
    mine = client.get("/api/projects/beta", params={"project": "beta"}, headers=bearer(reader))
    assert mine.json()["name"] == "beta"
    # Who is signed in: answered for a key of any project, without naming one.
    session = client.get("/api/session", headers=bearer(reader))
    assert session.status_code == 200, session.text
    assert session.json()["project"] == "beta"
