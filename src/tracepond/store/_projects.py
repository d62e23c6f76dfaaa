"""The ``projects`` table: create, list (with what each holds), get, set retention."""

from __future__ import annotations

import time
from typing import Any

import duckdb

from tracepond.errors import ProjectExists, ProjectNotFound
from tracepond.projects import Project, check_project_name

# What each project holds, from the trace summaries (one row per trace: no span scan).
_SELECT = """
    SELECT p.name, p.created_ns, p.description, p.retention_ns,
           coalesce(t.spans, 0), coalesce(t.traces, 0)
    FROM projects p
    LEFT JOIN (
        SELECT project, sum(span_count) AS spans, count(*) AS traces FROM traces
        {where} GROUP BY project
    ) t ON t.project = p.name
"""


def _project(row: tuple[Any, ...]) -> Project:
    name, created_ns, description, retention_ns, spans, traces = row
    return Project(name, int(created_ns), description, retention_ns, int(spans), int(traces))


def list_projects(cursor: Any) -> list[Project]:
    rows = cursor.execute(_SELECT.format(where="") + " ORDER BY p.name").fetchall()
    return [_project(row) for row in rows]


def get_project(cursor: Any, name: str) -> Project | None:
    sql = _SELECT.format(where="WHERE project = $name") + " WHERE p.name = $name"
    rows = cursor.execute(sql, {"name": name}).fetchall()
    return _project(rows[0]) if rows else None


def project_exists(cursor: Any, name: str) -> bool:
    """Whether the project exists, without its counts (every read of the API asks this)."""
    sql = "SELECT 1 FROM projects WHERE name = $name LIMIT 1"
    return bool(cursor.execute(sql, {"name": name}).fetchall())


def create_project(
    cursor: Any, name: str, description: str | None, retention_ns: int | None
) -> Project:
    check_project_name(name)
    try:
        cursor.execute(
            "INSERT INTO projects (name, created_ns, description, retention_ns)"
            " VALUES ($name, $now, $description, $retention)",
            {
                "name": name,
                "now": time.time_ns(),
                "description": description,
                "retention": retention_ns,
            },
        )
    except duckdb.ConstraintException as exc:
        raise ProjectExists(f"project {name!r} exists already") from exc
    found = get_project(cursor, name)
    assert found is not None
    return found


def set_retention(cursor: Any, name: str, retention_ns: int | None) -> Project:
    rows = cursor.execute(
        "UPDATE projects SET retention_ns = $retention WHERE name = $name RETURNING name",
        {"name": name, "retention": retention_ns},
    ).fetchall()
    if not rows:
        raise ProjectNotFound(f"project {name!r} does not exist")
    found = get_project(cursor, name)
    assert found is not None
    return found
