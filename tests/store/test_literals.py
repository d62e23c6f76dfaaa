"""The single-trace lookups paste values into SQL: only ints and the hex digits of bytes."""

from __future__ import annotations

import duckdb
import pytest

from tracepond.store._literals import blob_literal, in_trace, int_literal, project_literal


def test_blob_literal_round_trips_every_byte_value() -> None:
    value = bytes(range(256))
    assert duckdb.execute(f"SELECT {blob_literal(value)}").fetchall() == [(value,)]


def test_int_literal_round_trips_int64_bounds() -> None:
    for value in (0, -1, 2**63 - 1, -(2**63)):
        assert duckdb.execute(f"SELECT {int_literal(value)}::BIGINT").fetchall() == [(value,)]


@pytest.mark.parametrize("value", ["1; DROP TABLE spans", 1.5, True, b"1"])
def test_int_literal_refuses_anything_but_int(value: object) -> None:
    with pytest.raises(TypeError):
        int_literal(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["') OR 1=1 --", bytearray(b"ab"), 7])
def test_blob_literal_refuses_anything_but_bytes(value: object) -> None:
    with pytest.raises(TypeError):
        blob_literal(value)  # type: ignore[arg-type]


def test_in_trace_selects_only_that_trace_within_its_window() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE spans (trace_id BLOB, ingested_ns BIGINT, project VARCHAR)")
    ours, other = b"\x01" * 16, b"\x02" * 16
    rows = [(ours, 10, "a"), (ours, 30, "a"), (other, 20, "a"), (ours, 15, "b")]
    con.executemany("INSERT INTO spans VALUES (?, ?, ?)", rows)
    sql = f"SELECT ingested_ns FROM spans WHERE {in_trace(ours, (10, 20), 'a')}"
    assert con.execute(sql).fetchall() == [(10,)]


def test_project_literal_takes_only_project_names() -> None:
    assert project_literal("team-a_1") == "'team-a_1'"
    for bad in ("a'b", "Team", "", "-a", "a" * 64):
        with pytest.raises(ValueError):
            project_literal(bad)
