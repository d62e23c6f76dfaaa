"""`tracepond projects create|list`, directly in the database file and through a running
server; a database from before projects opens with its data in `default`; the Python client
and `tracepond export` read within one project."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import duckdb

from conftest import run_cli
from ingest.otlp_build import make_request, make_span, span_id, trace_id
from store.conformance.build import table
from store.test_migrations import _as_schema_4
from tracepond.client import Client
from tracepond.store._schema import MIGRATIONS
from tracepond.store.duckdb_store import DuckDBStore


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args)


def test_projects_cli_against_the_database_file(tmp_path: Path) -> None:
    db = str(tmp_path / "t.duckdb")
    created = _cli("projects", "create", "team-a", "--retention", "30d", "--db", db)
    assert created.returncode == 0, created.stderr
    assert "created project team-a, retention 30d" in created.stdout
    again = _cli("projects", "create", "team-a", "--db", db)
    assert again.returncode == 1 and "exists already" in again.stderr
    bad = _cli("projects", "create", "Team A", "--db", db)
    assert bad.returncode == 1 and "not a project name" in bad.stderr
    listed = _cli("projects", "list", "--db", db)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split()[0] for line in listed.stdout.splitlines()[1:]]
    assert rows == ["default", "team-a"]
    assert "30d" in listed.stdout
    changed = _cli("projects", "set-retention", "team-a", "12h", "--db", db)
    assert changed.returncode == 0 and "team-a: retention 12h" in changed.stdout, changed.stdout
    reset = _cli("projects", "set-retention", "team-a", "default", "--db", db)
    assert reset.returncode == 0 and "team-a: server default" in reset.stdout, reset.stdout
    unknown = _cli("projects", "set-retention", "nope", "1d", "--db", db)
    assert unknown.returncode == 1 and "does not exist" in unknown.stderr, unknown.stderr


def test_projects_cli_through_a_running_server(start_tracepond: Any) -> None:
    server = start_tracepond()
    created = _cli("projects", "create", "team-b", "--url", server.url)
    assert created.returncode == 0, created.stderr
    trace = trace_id()
    body = make_request([make_span(trace, span_id())]).SerializeToString()
    assert server.post_otlp(body, **{"x-tracepond-project": "team-b"}).status_code == 200
    listed = _cli("projects", "list", "--url", server.url)
    assert listed.returncode == 0, listed.stderr
    (row,) = [line.split() for line in listed.stdout.splitlines() if line.startswith("team-b")]
    assert row[1:3] == ["1", "1"]  # traces, spans
    duplicate = _cli("projects", "create", "team-b", "--url", server.url)
    assert duplicate.returncode == 1 and "exists already" in duplicate.stderr
    # The database is the server's while it runs: the direct form says what to do instead.
    locked = _cli("projects", "list", "--db", str(server.db_path))
    assert locked.returncode == 1 and "--url" in locked.stderr

    # The client and `tracepond export` read within their project.
    assert [t.trace_id for t in Client(server.url, project="team-b").search_traces().traces] == [
        trace.hex()
    ]
    assert Client(server.url).search_traces().traces == []
    out = server.db_path.parent / "team-b.jsonl"
    exported = _cli("export", "--url", server.url, "--project", "team-b", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert trace.hex() in out.read_text()


def test_a_database_from_before_projects_keeps_its_data_in_default(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    trace = trace_id()
    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    store.write([table(make_span(trace, span_id(), "old"))])
    store.close()
    _as_schema_4(path)
    with duckdb.connect(str(path)) as con:
        assert con.execute("SELECT count(*) FROM traces").fetchall() == [(1,)]

    store = DuckDBStore(path, memory_limit="64MB", threads=1)
    try:
        assert store.schema_version == MIGRATIONS[-1][0]
        assert store.trace(trace) is not None  # the default project
        assert store.trace(trace, project="other") is None
        (default,) = store.projects_list()
        assert (default.name, default.span_count, default.trace_count) == ("default", 1, 1)
        # Written again into another project, the same trace id is a trace of its own.
        store.projects_create("other")
        other = table(make_span(trace, span_id(), "new"))
        other.project = "other"
        assert store.write([other]).inserted == 1
        assert store.counts("default") == (1, 1) and store.counts("other") == (1, 1)
    finally:
        store.close()
