"""Projects (``projects_*``): what the seeded store lists, and creating, retention and errors on
stores of their own."""

from __future__ import annotations

import time

import pytest

from ingest.otlp_build import make_span, span_id, trace_id
from tracepond.errors import InvalidRequest, ProjectExists, ProjectNotFound
from tracepond.projects import DEFAULT_PROJECT, Project

from .build import table
from .conftest import ConformanceStore
from .seed import ACME, ACME_DESCRIPTION, ACME_RETENTION_NS, EMPTY, Seeded

DAY = 24 * 3600 * 1_000_000_000


def held(seeded: Seeded, project: str) -> tuple[int, int]:
    traces = seeded.of(project)
    return sum(len(t.spans) for t in traces), len(traces)


def test_the_seeded_projects_with_what_they_hold(seeded: Seeded) -> None:
    listed = seeded.store.projects_list()
    assert [p.name for p in listed] == [ACME, DEFAULT_PROJECT, EMPTY]  # by name
    by_name = {p.name: p for p in listed}
    for name in (ACME, DEFAULT_PROJECT, EMPTY):
        assert (by_name[name].span_count, by_name[name].trace_count) == held(seeded, name)
    acme = by_name[ACME]
    assert (acme.description, acme.retention_ns) == (ACME_DESCRIPTION, ACME_RETENTION_NS)
    assert (by_name[EMPTY].description, by_name[EMPTY].retention_ns) == (None, None)
    for name, project in by_name.items():
        assert seeded.store.projects_get(name) == project
        assert seeded.store.projects_exists(name)
    assert seeded.store.projects_get("nope") is None
    assert not seeded.store.projects_exists("nope")


def test_default_always_exists(store: ConformanceStore) -> None:
    (default,) = store.projects_list()
    assert (default.name, default.span_count, default.trace_count) == (DEFAULT_PROJECT, 0, 0)
    assert store.projects_exists(DEFAULT_PROJECT)
    assert store.projects_get(DEFAULT_PROJECT) == default


def test_create_and_set_retention(store: ConformanceStore) -> None:
    before = time.time_ns()
    created = store.projects_create("team-a", "first team", 30 * DAY)
    after = time.time_ns()
    assert created == Project("team-a", created.created_ns, "first team", 30 * DAY, 0, 0)
    assert before <= created.created_ns <= after
    plain = store.projects_create("team-b")
    assert plain == Project("team-b", plain.created_ns) and plain.created_ns >= created.created_ns
    store.write([table(make_span(trace_id(), span_id(), "x"), project="team-a")])
    changed = store.projects_set_retention("team-a", DAY)
    assert changed == Project("team-a", created.created_ns, "first team", DAY, 1, 1)
    assert store.projects_get("team-a") == changed
    cleared = store.projects_set_retention("team-a", None)
    assert cleared.retention_ns is None and cleared.span_count == 1
    # The default project's retention can be set too.
    assert store.projects_set_retention(DEFAULT_PROJECT, 2 * DAY).retention_ns == 2 * DAY
    assert [p.name for p in store.projects_list()] == [DEFAULT_PROJECT, "team-a", "team-b"]


def test_project_errors(store: ConformanceStore) -> None:
    store.projects_create("team-a", "first")
    with pytest.raises(ProjectExists):
        store.projects_create("team-a", "again")
    with pytest.raises(ProjectExists):
        store.projects_create(DEFAULT_PROJECT)
    assert store.projects_get("team-a").description == "first"  # type: ignore[union-attr]
    with pytest.raises(ProjectNotFound):
        store.projects_set_retention("nope", DAY)
    with pytest.raises(InvalidRequest):
        store.projects_create("Not A Name")
    assert not store.projects_exists("nope")
    assert [p.name for p in store.projects_list()] == [DEFAULT_PROJECT, "team-a"]
