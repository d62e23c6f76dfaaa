"""Projects and API keys. Both change by inserting a newer row (ReplacingMergeTree versioned
by ``updated_ns``, read with FINAL): no mutation, no row rewritten in place.

Creating a project checks that the name is free, then inserts: two receivers creating the same
name at the same moment both succeed, and one project results (the same row twice, folded).
"""

from __future__ import annotations

import time
from typing import Any, Final

from tracepond.errors import ProjectExists, ProjectNotFound
from tracepond.model.keys import KeyRecord
from tracepond.projects import Project, check_project_name
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._sql import run

_PROJECT_SELECT: Final = """
    SELECT p.name, p.created_ns, p.description, p.retention_ns,
           coalesce(t.spans, 0), coalesce(t.traces, 0)
    FROM (SELECT * FROM {db}.projects FINAL {where}) p
    LEFT JOIN (
        SELECT project, sum(span_count) AS spans, count() AS traces FROM {db}.traces FINAL
        {traces_where} GROUP BY project
    ) t ON t.project = p.name
    ORDER BY p.name
"""
_KEY_COLUMNS: Final = (
    "id",
    "name",
    "project",
    "scope",
    "secret_hash",
    "created_ns",
    "expires_ns",
    "revoked_ns",
)


def _project(row: tuple[Any, ...]) -> Project:
    name, created_ns, description, retention_ns, spans, traces = row
    return Project(name, int(created_ns), description, retention_ns, int(spans), int(traces))


def list_projects(client: Any, db: str) -> list[Project]:
    sql = _PROJECT_SELECT.format(db=db, where="", traces_where="")
    return [_project(row) for row in run(client, sql)[1]]


def get_project(client: Any, db: str, name: str) -> Project | None:
    p = Params()
    name_param = p.add(name)
    sql = _PROJECT_SELECT.format(
        db=db, where=f"WHERE name = {name_param}", traces_where=f"WHERE project = {name_param}"
    )
    rows = run(client, sql, p)[1]
    return _project(rows[0]) if rows else None


def project_exists(client: Any, db: str, name: str) -> bool:
    """Whether the project exists, without its counts (every read of the API asks this)."""
    p = Params()
    sql = f"SELECT 1 FROM {db}.projects WHERE name = {p.add(name)} LIMIT 1"
    return bool(run(client, sql, p)[1])


def create_project(
    client: Any, db: str, name: str, description: str | None, retention_ns: int | None
) -> Project:
    check_project_name(name)
    if get_project(client, db, name) is not None:
        raise ProjectExists(f"project {name!r} exists already")
    now = time.time_ns()
    _insert_project(client, db, (name, now, description, retention_ns, now))
    found = get_project(client, db, name)
    assert found is not None
    return found


def set_retention(client: Any, db: str, name: str, retention_ns: int | None) -> Project:
    found = get_project(client, db, name)
    if found is None:
        raise ProjectNotFound(f"project {name!r} does not exist")
    row = (name, found.created_ns, found.description, retention_ns, time.time_ns())
    _insert_project(client, db, row)
    changed = get_project(client, db, name)
    assert changed is not None
    return changed


def _insert_project(client: Any, db: str, row: tuple[Any, ...]) -> None:
    client.insert(
        f"{db}.projects",
        [row],
        column_names=["name", "created_ns", "description", "retention_ns", "updated_ns"],
    )


def retentions(client: Any, db: str) -> dict[str, int | None]:
    rows = run(client, f"SELECT name, retention_ns FROM {db}.projects FINAL ORDER BY name")[1]
    return {row[0]: row[1] for row in rows}


def api_keys(client: Any, db: str) -> list[KeyRecord]:
    sql = f"SELECT {', '.join(_KEY_COLUMNS)} FROM {db}.api_keys FINAL ORDER BY created_ns, id"
    return [KeyRecord(*row) for row in run(client, sql)[1]]


def insert_key(client: Any, db: str, key: KeyRecord, settings: dict[str, Any]) -> None:
    row = [getattr(key, name) for name in _KEY_COLUMNS] + [time.time_ns()]
    client.insert(
        f"{db}.api_keys", [row], column_names=[*_KEY_COLUMNS, "updated_ns"], settings=settings
    )


def revoke_key(client: Any, db: str, key_id: str, now_ns: int, settings: dict[str, Any]) -> bool:
    """Revoking twice keeps the first time; False when there is no such key."""
    key = next((k for k in api_keys(client, db) if k.id == key_id), None)
    if key is None:
        return False
    if key.revoked_ns is None:
        row = [getattr(key, name) for name in _KEY_COLUMNS[:-1]] + [now_ns, time.time_ns()]
        client.insert(
            f"{db}.api_keys", [row], column_names=[*_KEY_COLUMNS, "updated_ns"], settings=settings
        )
    return True
