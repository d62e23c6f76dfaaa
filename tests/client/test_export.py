"""``tracepond export`` against a real seeded server: the file's rows are the API's results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ingest.otlp_build import BASE_NS
from search.seed import S

WINDOW = ["--since", str(BASE_NS), "--until", str(BASE_NS + 200 * S)]


def export(server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", "export", "--url", server.url, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def api_rows(server: Any, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a search, following the cursor."""
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = server.get_json(path, limit=1000, cursor=cursor, **params)
        rows += page[key]
        if not (cursor := page["next_cursor"]):
            return rows


def summary(row: dict[str, Any]) -> dict[str, Any]:
    """An exported trace row without what the export adds to the API's summary."""
    return {k: v for k, v in row.items() if k not in ("input", "output", "metadata", "tags")}


def test_jsonl_traces_match_the_api(server: Any, tmp_path: Path) -> None:
    out = tmp_path / "traces.jsonl"
    q = '{ category = "llm" }'
    result = export(server, "--query", q, *WINDOW, "--out", str(out), "--page-size", "2")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    expected = api_rows(
        server, "/api/traces", "traces", q=q, since=BASE_NS, until=BASE_NS + 200 * S
    )
    # The API's summaries, each with its root's input and output (a dataset row).
    assert [summary(r) for r in rows] == expected and len(rows) == 4
    assert all({"input", "output", "metadata", "tags"} <= set(r) for r in rows)
    assert "exported 4 traces" in result.stderr and "[" in result.stderr  # the progress bar
    assert not list(tmp_path.glob("*.partial"))


def test_parquet_spans_match_the_api(server: Any, tmp_path: Path) -> None:
    out = tmp_path / "spans.parquet"
    result = export(server, "--spans", "--text", "gpt-4o", "--format", "parquet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out).to_pylist()
    expected = api_rows(server, "/api/spans", "spans", text="gpt-4o")
    assert len(table) == len(expected) > 0
    assert [(r["trace_id"], r["span_id"]) for r in table] == [
        (r["trace_id"], r["span_id"]) for r in expected
    ]
    for row, api in zip(table, expected, strict=True):
        assert json.loads(row["attributes"]) == api["attributes"]
        assert json.loads(row["status"]) == api["status"]
        assert (row["model"], row["input_tokens"], row["duration_ns"]) == (
            api["model"],
            api["input_tokens"],
            api["duration_ns"],
        )


def test_parquet_traces_keep_lists(server: Any, tmp_path: Path) -> None:
    out = tmp_path / "traces.parquet"
    result = export(server, *WINDOW, "--out", str(out))  # format from the suffix
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out).to_pylist()
    expected = api_rows(server, "/api/traces", "traces", since=BASE_NS, until=BASE_NS + 200 * S)
    assert [summary(r) for r in table] == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--query", "{ name = }"], "position 9"),
        (["--since", "yesterday-ish"], "since"),
    ],
)
def test_errors_leave_no_file(server: Any, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "x.jsonl"
    result = export(server, *args, "--out", str(out))
    assert result.returncode == 2 and message in result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_unreachable_server(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracepond.cli",
            "export",
            "--url",
            "http://127.0.0.1:9",
            "--out",
            str(tmp_path / "x.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "127.0.0.1:9" in result.stderr
