"""``tracepond copy``: a database moved from one store to another through the store contract.

The source is a real DuckDB file seeded through the decoder (the conformance suite's dataset:
several projects, a trace spread over several writes, duplicates, a trace with two roots, the
same trace id in two projects) plus enough traces to cross every bound of the copy. Every trace
is then compared between source and destination (summary and every column of every span), and
the copy is run again to show that nothing doubles.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import clean_env
from ingest.otlp_build import BASE_NS, chain, make_request, make_span, span_id, trace_id
from store.clickhouse.stores import open_chdb_store
from store.conformance.build import batch_of
from store.conformance.seed import ACME, EMPTY, comparable, seed_store
from tracepond import cli
from tracepond._copy import CopyLimits, CopyResult, Progress, copy_store
from tracepond._copy_cli import same_store
from tracepond.errors import ProjectNotFound, StorageUnavailable
from tracepond.model.keys import KeyRecord
from tracepond.model.records import SessionRow, SpanRecord, TraceSummary
from tracepond.store.contract import Store
from tracepond.store.duckdb_store import DuckDBStore
from tracepond.store.url import parse_store_url

SRC = str(Path(cli.__file__).resolve().parents[1])
# Small bounds, so that the seeded data crosses each of them: several id chunks per project,
# several reads per chunk, traces split over writes.
SMALL = CopyLimits(
    trace_ids=3, read_bytes=4_000, max_traces_per_read=2, batch_spans=7, batch_bytes=20_000
)
BIG_TRACE_SPANS = 40


def open_duckdb(path: Path) -> Store:
    return DuckDBStore(path, memory_limit="128MB", threads=1)


def require_clickhouse_store() -> None:
    """Fail (not skip) with the reason when the ClickHouse store cannot be tested here."""
    if importlib.util.find_spec("chdb") is None:
        pytest.fail("chdb is not installed: the ClickHouse store cannot be tested")
    from tracepond.store.clickhouse import ClickHouseStore

    missing = [name for name in ("traces", "trace_id_chunks") if not hasattr(ClickHouseStore, name)]
    if missing:
        pytest.fail(
            "the ClickHouse store does not honour the split store contract yet (no"
            f" {', '.join(missing)}): merge h-int once it does"
        )


def open_chdb(path: Path) -> Store:
    require_clickhouse_store()
    return open_chdb_store(path)  # type: ignore[no-any-return]


DESTINATIONS = [
    pytest.param(open_duckdb, id="duckdb"),
    pytest.param(open_chdb, id="chdb"),
]


def seed_source(store: Store) -> None:
    """The conformance dataset, more traces of ``acme`` than one chunk holds, a trace larger
    than one write, and an API key (which must stay behind)."""
    seed_store(store)
    for number in range(8):
        spans = chain(trace_id(), 3, start=BASE_NS + number * 1_000_000, name=f"acme-{number}")
        store.write([batch_of(make_request(spans, service="acme-batch"), ACME)])
    big = trace_id()
    root = span_id()
    children = [
        make_span(big, span_id(), f"step-{n}", parent=root, start=BASE_NS + n, end=BASE_NS + n + 5)
        for n in range(BIG_TRACE_SPANS - 1)
    ]
    spans = [make_span(big, root, "big-root", start=BASE_NS, end=BASE_NS + 100), *children]
    store.write([batch_of(make_request(spans, service="big"))])
    # Two roots, the later-starting one written first (the summary names the earliest root).
    two_roots = trace_id()
    late = make_span(two_roots, span_id(), "late-root", start=BASE_NS + 50, end=BASE_NS + 60)
    early = make_span(two_roots, span_id(), "early-root", start=BASE_NS, end=BASE_NS + 10)
    for root in (late, early):
        store.write([batch_of(make_request([root], service="roots"))])
    summary = store.trace_summary(two_roots)
    assert summary is not None and summary.root_name == "early-root"
    store.insert_key(KeyRecord("k1", "ops", None, "admin", "ab" * 32, BASE_NS))


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Store]:
    store = open_duckdb(tmp_path / "source.duckdb")
    seed_source(store)
    yield store
    store.close()


def every_trace_id(store: Store) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for project, ids in store.trace_id_chunks(1_000):
        out.setdefault(project, []).extend(ids)
    return {project: sorted(ids) for project, ids in out.items()}


def by_span(spans: list[SpanRecord]) -> list[SpanRecord]:
    return sorted(spans, key=lambda span: span["span_id"])


def same_summary(summary: TraceSummary) -> TraceSummary:
    return comparable(summary)


def same_session(row: SessionRow) -> SessionRow:
    return replace(row, cost=None if row.cost is None else round(row.cost, 9))


def assert_same_data(source: Store, destination: Store) -> None:
    """Every project (description, retention, counts), every trace (summary, every column of
    every span) and every session alike in both stores; no API key in the destination."""
    strip = ("created_ns",)
    assert [replace(p, **dict.fromkeys(strip, 0)) for p in destination.projects_list()] == [
        replace(p, **dict.fromkeys(strip, 0)) for p in source.projects_list()
    ]
    ids = every_trace_id(source)
    assert every_trace_id(destination) == ids
    for project, trace_ids in ids.items():
        copied = {
            s.trace_id: (s, spans) for s, spans in destination.traces(trace_ids, "all", project)
        }
        for summary, spans in source.traces(trace_ids, "all", project):
            got_summary, got_spans = copied[summary.trace_id]
            assert same_summary(got_summary) == same_summary(summary)
            assert by_span(got_spans) == by_span(spans)
        sessions = [source, destination]
        rows = [s.sessions(100, None, None, None, project).rows for s in sessions]
        assert [same_session(r) for r in rows[1]] == [same_session(r) for r in rows[0]]
    for project in (p.name for p in source.projects_list()):
        assert destination.counts(project) == source.counts(project)
    assert destination.api_keys() == []
    assert source.api_keys() != []


@pytest.mark.parametrize("open_destination", DESTINATIONS)
def test_copy_moves_every_trace_alike_and_again_doubles_nothing(
    source: Store, tmp_path: Path, open_destination: Callable[[Path], Store]
) -> None:
    destination = open_destination(tmp_path / "destination.duckdb")
    try:
        seen: list[Progress] = []
        watched = Watched(destination)
        first = copy_store(
            source,
            watched,  # type: ignore[arg-type]
            limits=SMALL,
            on_progress=lambda p: seen.append(replace(p)),
        )
        assert_same_data(source, destination)
        assert all(counts.matches for counts in first.counts)
        total_spans = source.counts()[0]
        assert first.spans == total_spans and first.inserted == total_spans
        assert first.traces == source.counts()[1]
        # Bounded writes (the big trace went over several), each reported as progress.
        assert sum(watched.writes) == total_spans
        assert max(watched.writes) == SMALL.batch_spans
        assert len(watched.writes) > BIG_TRACE_SPANS // SMALL.batch_spans
        assert [p.spans for p in seen if p.project == ACME] == sorted(
            {p.spans for p in seen if p.project == ACME}
        )
        assert EMPTY in first.progress and first.progress[EMPTY].traces == 0

        again = copy_store(source, destination, limits=SMALL)
        assert again.inserted == 0 and again.spans == total_spans
        assert_same_data(source, destination)
    finally:
        destination.close()


class Watched:
    """A real store whose writes are recorded (spans per write) and which, given ``fail_after``,
    fails after that many writes as a lost connection does."""

    def __init__(self, store: Store, fail_after: int | None = None) -> None:
        self._store = store
        self._left = fail_after
        self.writes: list[int] = []

    def write(self, batches: Any) -> Any:
        if self._left == 0:
            raise StorageUnavailable("connection lost")
        if self._left is not None:
            self._left -= 1
        self.writes.append(sum(batch.num_rows for batch in batches))
        return self._store.write(batches)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_an_interrupted_copy_is_completed_by_running_it_again(
    source: Store, tmp_path: Path
) -> None:
    destination = open_duckdb(tmp_path / "destination.duckdb")
    try:
        with pytest.raises(StorageUnavailable):
            copy_store(source, Watched(destination, fail_after=4), limits=SMALL)  # type: ignore[arg-type]
        partial_spans, _ = destination.counts()
        assert 0 < partial_spans < source.counts()[0]

        resumed: CopyResult = copy_store(source, destination, limits=SMALL)
        assert resumed.inserted == source.counts()[0] - partial_spans
        assert_same_data(source, destination)
    finally:
        destination.close()


def test_writes_are_bounded_by_bytes_too(source: Store, tmp_path: Path) -> None:
    destination = open_duckdb(tmp_path / "destination.duckdb")
    try:
        watched = Watched(destination)
        limits = replace(SMALL, batch_bytes=1)  # every span is over it: one span per write
        copy_store(source, watched, [ACME], limits=limits)  # type: ignore[arg-type]
        assert watched.writes == [1] * source.counts(ACME)[0]
        assert destination.counts(ACME) == source.counts(ACME)
    finally:
        destination.close()


def test_only_the_projects_asked_for(source: Store, tmp_path: Path) -> None:
    destination = open_duckdb(tmp_path / "destination.duckdb")
    try:
        result = copy_store(source, destination, [ACME], limits=SMALL)
        assert [c.project for c in result.counts] == [ACME]
        assert destination.counts(ACME) == source.counts(ACME)
        assert destination.counts("default") == (0, 0)
        acme = destination.projects_get(ACME)
        original = source.projects_get(ACME)
        assert acme is not None and original is not None
        assert (acme.description, acme.retention_ns) == (
            original.description,
            original.retention_ns,
        )
        assert not destination.projects_exists(EMPTY)
        with pytest.raises(ProjectNotFound, match="nope"):
            copy_store(source, destination, ["nope"])
    finally:
        destination.close()


# -- the command line -------------------------------------------------------------------------


def run_copy(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", "copy", *argv],
        capture_output=True,
        text=True,
        env=clean_env({"PYTHONPATH": SRC}),
        timeout=300,
        check=False,
        cwd=cwd,
    )


def seeded_file(path: Path) -> Path:
    store = open_duckdb(path)
    try:
        seed_source(store)
    finally:
        store.close()
    return path


def test_cli_copies_and_compares_counts(tmp_path: Path) -> None:
    source_path = seeded_file(tmp_path / "source.duckdb")
    target = tmp_path / "target.duckdb"
    argv = ("--from", f"duckdb://{source_path}", "--to", f"duckdb://{target}")
    first = run_copy(*argv)
    assert first.returncode == 0, first.stderr
    assert "API keys are not copied" in first.stderr and "API keys are not copied" in first.stdout
    for project in ("default", ACME, EMPTY):
        assert any(
            line.startswith(project + " ") and line.endswith("ok")
            for line in first.stdout.splitlines()
        ), first.stdout
    assert "traces, " in first.stderr  # progress
    again = run_copy(*argv)
    assert again.returncode == 0, again.stderr
    assert ", 0 new)" in again.stdout
    source, destination = open_duckdb(source_path), open_duckdb(target)
    try:
        assert_same_data(source, destination)
    finally:
        source.close()
        destination.close()


def test_cli_round_trip_through_clickhouse(tmp_path: Path) -> None:
    """DuckDB -> the ClickHouse store on chdb -> DuckDB, each by the command, in processes of
    their own (chdb holds one engine directory per process): the file that comes back holds
    what the first held."""
    require_clickhouse_store()
    source_path = seeded_file(tmp_path / "source.duckdb")
    chdb = f"chdb://{tmp_path / 'clickhouse'}"
    back = tmp_path / "back.duckdb"
    runs = [
        run_copy("--from", f"duckdb://{source_path}", "--to", chdb),
        run_copy("--from", f"duckdb://{source_path}", "--to", chdb),  # again: nothing new
        run_copy("--from", chdb, "--to", f"duckdb://{back}"),
    ]
    for result in runs:
        assert result.returncode == 0, result.stderr
        assert "DIFFERENT" not in result.stdout
    assert ", 0 new)" in runs[1].stdout and ", 0 new)" not in runs[0].stdout
    source, returned = open_duckdb(source_path), open_duckdb(back)
    try:
        assert_same_data(source, returned)
    finally:
        source.close()
        returned.close()


@pytest.mark.parametrize(
    ("argv", "code", "expected"),
    [
        (("--from", "postgres://x/y", "--to", "duckdb://b.duckdb"), 2, "--from: not a store URL"),
        (("--from", "duckdb://a.duckdb", "--to", "duckdb://./a.duckdb"), 2, "the same store"),
        (("--from", "duckdb://missing.duckdb", "--to", "duckdb://b.duckdb"), 1, "no database"),
        (("--from", "chdb:///nowhere/ch", "--to", "duckdb://b.duckdb"), 1, "no database"),
        (("--from", "chdb:///tmp/a", "--to", "chdb:///tmp/b"), 2, "one data directory per process"),
        (
            ("--from", "duckdb://SEEDED", "--to", "clickhouse://u:hunter2@127.0.0.1:1/db"),
            1,
            "--to: cannot open clickhouse://u:***@127.0.0.1:1/db",
        ),
        (
            ("--from", "duckdb://SEEDED", "--to", "duckdb://b.duckdb", "--project", "nope"),
            1,
            "nope",
        ),
    ],
    ids=[
        "unknown scheme",
        "onto itself",
        "no source",
        "no chdb source",
        "two chdb directories",
        "unreachable destination",
        "no project",
    ],
)
def test_cli_errors_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], code: int, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if any("SEEDED" in arg for arg in argv):
        seeded_file(tmp_path / "seeded.duckdb")
        argv = tuple(arg.replace("SEEDED", "seeded.duckdb") for arg in argv)
    result = run_copy(*argv, cwd=tmp_path)
    assert result.returncode == code, result
    errors = [line for line in result.stderr.splitlines() if line.startswith("tracepond:")]
    assert len(errors) == 1 and expected in errors[0], result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "b.duckdb").exists()


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("duckdb://x.duckdb", "duckdb://./x.duckdb", True),
        ("duckdb://x.duckdb", "duckdb://y.duckdb", False),
        ("chdb:///tmp/ch", "chdb:///tmp/ch/", True),
        ("chdb:///tmp/ch?database=a", "chdb:///tmp/ch?database=b", False),
        ("clickhouse://u:p@Host:8123/db", "clickhouse://v@host:8123/db", True),
        ("clickhouse://u@host:8123/db", "clickhouse://u@host:8123/other", False),
        ("duckdb://x.duckdb", "chdb:///x.duckdb", False),
    ],
)
def test_same_store(a: str, b: str, same: bool) -> None:
    assert same_store(parse_store_url(a), parse_store_url(b)) is same
