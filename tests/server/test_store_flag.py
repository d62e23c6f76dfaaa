"""``--store`` on real processes: ``tracepond serve --store duckdb://...`` serves as ``--db``
does (ingest, API, Jaeger, /metrics, restart), bad or conflicting settings stop the start with
exit 2, a store that cannot be opened with exit 1, and a URL's password appears in no output;
the CLI commands that open the store take ``--store`` too."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import clean_env, run_cli, tracepond_command
from ingest.otlp_build import chain, make_request, trace_id
from operate.promtext import scrape, total

SECRET = "s3cret-pw"


def serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``tracepond serve ARGS`` on free ports, for a start that is expected to fail."""
    return subprocess.run(
        tracepond_command("--grpc-port", "0", "--http-port", "0", *args),
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_serve_with_a_duckdb_store_url(start_tracepond: Any, tmp_path: Path) -> None:
    db, env_db = tmp_path / "store.duckdb", tmp_path / "env.duckdb"
    # The flag beats TRACEPOND_DB.
    env = {"TRACEPOND_DB": str(env_db)}
    server = start_tracepond("--store", f"duckdb://{db}", env=env, pass_db=False)
    assert server.db_path == db  # the ready line shows the file
    trace = trace_id()
    request = make_request(chain(trace, 3), service="store-flag")
    assert server.post_otlp(request.SerializeToString()).status_code == 200
    assert server.trace(trace.hex())["summary"]["span_count"] == 3
    assert server.get_json("/jaeger/api/services")["data"] == ["store-flag"]
    found = server.get_json("/jaeger/api/traces", service="store-flag")["data"]
    assert [t["traceID"] for t in found] == [trace.hex()]
    assert total(scrape(server), "tracepond_database_bytes") > 0
    assert server.stop() == 0
    assert db.is_file() and not env_db.exists()
    # The same database through --db, its shorthand.
    again = start_tracepond(db_path=db)
    assert again.trace(trace.hex())["summary"]["span_count"] == 3


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--store", f"mysql://u:{SECRET}@h/db"], {}, "--store: not a store URL"),
        ([], {"TRACEPOND_STORE": f"clickhouse://u:{SECRET}@h:99999/db"}, "TRACEPOND_STORE:"),
        (
            ["--store", "duckdb://a.duckdb", "--db", "b.duckdb"],
            {},
            "--store duckdb://a.duckdb and --db b.duckdb name different databases",
        ),
    ],
    ids=["unknown-scheme", "bad-port-env", "store-and-db-disagree"],
)
def test_bad_store_settings_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = serve(*args, env=env)
    assert result.returncode == 2, result
    assert f"tracepond: invalid setting: {message}" in result.stderr
    assert SECRET not in result.stderr + result.stdout


@pytest.mark.parametrize("log_json", [False, True], ids=["text", "json"])
def test_a_store_that_cannot_open_fails_without_showing_its_password(log_json: bool) -> None:
    # Nothing listens on port 1: the store cannot be opened (or its extra is not installed).
    flags = ["--store", f"clickhouse://writer:{SECRET}@127.0.0.1:1/traces"]
    result = serve(*flags, *(["--log-json"] if log_json else []))
    assert result.returncode == 1, result
    assert "tracepond: " in result.stderr
    assert SECRET not in result.stderr + result.stdout
    assert "tracepond ready" not in result.stdout


def test_cli_commands_take_a_store_url(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    created = run_cli("projects", "create", "team-s", "--store", f"duckdb://{db}")
    assert created.returncode == 0, created.stderr
    listed = run_cli("projects", "list", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["default", "team-s"]
    keys = run_cli("keys", "list", "--store", f"duckdb://{db}")
    assert keys.returncode == 0, keys.stderr
    reindexed = run_cli("reindex", "--store", f"duckdb://{db}")
    assert reindexed.returncode == 0, reindexed.stderr
    assert f"reindexed 0 spans and 0 traces in {db}" in reindexed.stdout
    missing = run_cli("delete", "--user", "u", "--store", f"duckdb://{tmp_path / 'none.duckdb'}")
    assert missing.returncode == 1 and "no database at" in missing.stderr
    bad = run_cli("keys", "list", "--store", f"mysql://u:{SECRET}@h/db")
    assert bad.returncode == 1 and "not a store URL" in bad.stderr
    assert SECRET not in bad.stderr
