"""Every read of the API names a project and the query service checks it exists: once per
name, since projects are never deleted, and again for a name not found (another receiver, or the
projects API, may create it meanwhile). The store answers without counting the project's
traces. On every store."""

from __future__ import annotations

from typing import Any

import pytest

from tracepond.errors import UnknownProject
from tracepond.query.service import QueryService

from .conftest import ConformanceStore


class CountingStore:
    """The store, counting how often the service asks it whether a project exists."""

    def __init__(self, store: ConformanceStore) -> None:
        self.store = store
        self.asked: list[str] = []

    def projects_exists(self, name: str) -> bool:
        self.asked.append(name)
        return self.store.projects_exists(name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_known_project_is_asked_of_the_store_once(store: ConformanceStore) -> None:
    counting = CountingStore(store)
    service = QueryService(counting)  # type: ignore[arg-type]
    for _ in range(3):
        assert service.check_project("default") == "default"
    assert counting.asked == ["default"]


def test_a_project_created_after_it_was_unknown_is_found(store: ConformanceStore) -> None:
    counting = CountingStore(store)
    service = QueryService(counting)  # type: ignore[arg-type]
    with pytest.raises(UnknownProject):
        service.check_project("late")
    store.projects_create("late")  # as another receiver would, behind this service's back
    assert service.check_project("late") == "late"
    assert counting.asked == ["late", "late"]


def test_existence_does_not_depend_on_the_project_holding_traces(store: ConformanceStore) -> None:
    store.projects_create("empty")
    assert store.projects_exists("empty")
    assert store.projects_exists("default")
    assert not store.projects_exists("missing")
