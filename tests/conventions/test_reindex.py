"""`tracepond reindex` recomputes derived columns from raw attributes and touches nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import orjson

from tracepond.ingest._limits import TRUNCATION_MARK, SpanLimits
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.spans import VIEW_COLUMNS

from .test_through_server import EXPECTED_TOTALS, captured_requests, trace_ids

PRODUCER = "openinference_langchain"


def reindex(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", "reindex", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def raw_snapshot(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT trace_id, span_id, attributes_json, events_json, origin_id, name,"
            " start_ns, end_ns FROM spans ORDER BY trace_id, span_id"
        ).fetchall()


def stored_views(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT trace_id, span_id, view_json FROM spans ORDER BY trace_id, span_id"
        ).fetchall()


def totals(server: Any) -> tuple[int, ...]:
    summaries = [server.trace(t)["summary"] for t in sorted(trace_ids(PRODUCER))]
    keys = ("input_tokens", "output_tokens", "llm_count", "tool_count", "retriever_count")
    return tuple(sum(s[key] for s in summaries) for key in keys)


def test_reindex_recomputes_views_and_totals_and_keeps_raw_data(start_tracepond: Any) -> None:
    server = start_tracepond()
    for body, media, headers in captured_requests(PRODUCER):
        assert server.post_otlp(body, media, **headers).status_code == 200
    db = server.db_path
    server.stop()
    before = raw_snapshot(db)
    views = stored_views(db)
    assert all(view for *_, view in views)
    # As if written by a tracepond whose mapping tables knew nothing of OpenInference.
    with duckdb.connect(str(db)) as con:
        con.execute(
            "UPDATE spans SET category = 'unknown', input_tokens = NULL, model = NULL,"
            ' view_json = \'{"category":"unknown"}\''
        )
        con.execute("UPDATE traces SET input_tokens = 0, llm_count = 0, models = []")

    done = reindex(db)
    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr
    assert f"reindexed {len(before)} spans" in done.stdout

    assert raw_snapshot(db) == before
    with duckdb.connect(str(db), read_only=True) as con:
        categories = {row[0] for row in con.execute("SELECT category FROM spans").fetchall()}
    assert {"llm", "tool", "retriever"} <= categories
    assert stored_views(db) == views
    server = start_tracepond()
    assert totals(server) == EXPECTED_TOTALS[PRODUCER]


def test_reindex_refuses_a_database_in_use(start_tracepond: Any) -> None:
    server = start_tracepond()
    done = reindex(server.db_path)
    assert done.returncode == 1
    assert "is the server still running?" in done.stderr


def test_reindex_without_a_database(tmp_path: Path) -> None:
    done = reindex(tmp_path / "missing.duckdb")
    assert done.returncode == 1
    assert "no database" in done.stderr


def test_reindexed_views_are_bounded_as_at_ingest() -> None:
    """Reindex recomputes views with the decoder's own bounds: a view column is a name (cut at
    the name limit) and a view JSON past the span budget is not stored (readers derive it)."""
    limits = SpanLimits(max_name_bytes=64, max_span_attribute_bytes=4096)
    decoder = SpanDecoder(limits=limits)
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "t" * 1000,
        "gen_ai.input.messages": orjson.dumps([{"role": "user", "content": "q" * 8000}]).decode(),
    }
    stored, columns = decoder.view_of("tool", 0, "", attributes, [], 0)
    tool_name = dict(zip(VIEW_COLUMNS, columns, strict=True))["tool_name"]
    assert tool_name is not None and len(tool_name.encode()) <= 64 + len(TRUNCATION_MARK.encode())
    assert stored is None
    small, _ = decoder.view_of("tool", 0, "", {"gen_ai.tool.name": "lookup"}, [], 0)
    assert small is not None
