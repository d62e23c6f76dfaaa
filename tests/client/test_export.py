"""``tracepond export`` against a real seeded server: the file's rows are the API's results."""

from __future__ import annotations

import csv
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
    """An exported trace row (or the API's listed trace) without what the export adds to the
    API's summary (the root's tags: the list shows them, the export takes the root's own)."""
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
    assert [summary(r) for r in rows] == [summary(e) for e in expected] and len(rows) == 4
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
    assert [summary(r) for r in table] == [summary(e) for e in expected]


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


def test_csv_by_suffix_has_flat_columns(server: Any, tmp_path: Path) -> None:
    out = tmp_path / "z.csv"
    result = export(server, *WINDOW, "--out", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    expected = api_rows(server, "/api/traces", "traces", since=BASE_NS, until=BASE_NS + 200 * S)
    assert [r["trace_id"] for r in rows] == [t["trace_id"] for t in expected]
    for row, api in zip(rows, expected, strict=True):
        assert int(row["duration_ns"]) == api["duration_ns"]
        assert json.loads(row["models"]) == api["models"]  # nested values as JSON text
        assert row["cost"] == ("" if api["cost"] is None else str(api["cost"]))
    assert "input" in rows[0] and "output" in rows[0]


def test_json_and_ndjson_by_suffix(server: Any, tmp_path: Path) -> None:
    lines, array = tmp_path / "t.ndjson", tmp_path / "t.json"
    assert export(server, *WINDOW, "--out", str(lines)).returncode == 0
    assert export(server, *WINDOW, "--out", str(array)).returncode == 0
    rows = [json.loads(line) for line in lines.read_text().splitlines()]
    assert json.loads(array.read_text()) == rows and len(rows) == 4
    nothing = tmp_path / "none.json"
    result = export(server, "--since", "1s", "--until", "1s", "--out", str(nothing))
    assert result.returncode == 0 and json.loads(nothing.read_text()) == []


@pytest.mark.parametrize("name", ["z", "z.txt", "traces.jsonl.gz"])
def test_unknown_suffix_is_refused_with_the_formats(server: Any, tmp_path: Path, name: str) -> None:
    result = export(server, *WINDOW, "--out", str(tmp_path / name))
    assert result.returncode == 2
    assert ".jsonl, .ndjson, .json, .csv, .parquet" in result.stderr
    assert "--format {jsonl,json,csv,parquet}" in result.stderr
    assert not list(tmp_path.iterdir())
    forced = export(server, *WINDOW, "--format", "jsonl", "--out", str(tmp_path / name))
    assert forced.returncode == 0, forced.stderr


def test_traces_export_as_a_dataset(server: Any, seed: Any, tmp_path: Path) -> None:
    out = tmp_path / "dataset.jsonl"
    result = export(server, *WINDOW, "--query", '{ service = "rag-svc" }', "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = {r["trace_id"]: r for r in map(json.loads, out.read_text().splitlines())}
    empty = rows[seed.ids["rag_empty"]]
    assert empty["input"] == "Where is Atlantis?" and empty["tags"] == ["beta", "eu"]
    assert "spans" not in empty
    with_spans = tmp_path / "with-spans.jsonl"
    result = export(server, *WINDOW, "--with-spans", "--out", str(with_spans))
    assert result.returncode == 0, result.stderr
    rows = {r["trace_id"]: r for r in map(json.loads, with_spans.read_text().splitlines())}
    spans = {s["name"]: s for s in rows[seed.ids["rag_empty"]]["spans"]}
    assert spans["chat gpt-4o"]["input_messages"] == [
        {"role": "user", "parts": [{"type": "text", "content": "Where is Atlantis?"}]}
    ]
    assert spans["chat gpt-4o"]["usage"]["output_tokens"] == 20
    assert spans["rag.query"]["depth"] == 0 and spans["vector.search"]["depth"] == 1


def test_span_export_carries_the_normalized_fields(server: Any, seed: Any, tmp_path: Path) -> None:
    out = tmp_path / "spans.csv"
    result = export(server, *WINDOW, "--spans", "--out", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(newline="", encoding="utf-8") as file:
        rows = {r["span_id"]: r for r in csv.DictReader(file)}
    llm = rows[seed.span_ids["rag_empty.llm"]]
    assert json.loads(llm["output_messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": 'Nobody knows 100% "exactly".'}],
        }
    ]
    retrieved = json.loads(rows[seed.span_ids["rag_ok.ret"]]["documents"])
    assert [d["content"] for d in retrieved] == ["Paris is in France", "Rome"]
