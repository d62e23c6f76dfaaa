"""The metrics thread: GenAI aggregation off the writer, drained before every scrape."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from tracepond.metrics._observer import BackgroundObserver
from tracepond.model.records import WriteResult

RESULT = WriteResult(inserted=1, duplicates=0)


def _table(n: int) -> pa.Table:
    return pa.table({"n": [n]})


class _Recorder:
    """An observe function that can be held up, and remembers where and what it ran."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.seen: list[tuple[int, str]] = []

    def __call__(self, table: pa.Table, result: WriteResult) -> None:
        self.entered.set()
        if threading.current_thread().name == "tracepond-metrics":
            self.release.wait(10)
        self.seen.append((table["n"][0].as_py(), threading.current_thread().name))


def test_aggregates_on_its_own_thread_and_drain_waits_for_it() -> None:
    recorder = _Recorder()
    recorder.release.clear()
    observer = BackgroundObserver(recorder)
    observer.submit(_table(1), RESULT)
    observer.submit(_table(2), RESULT)
    assert observer.drain(0.1) is False  # still held up: a scrape would wait
    recorder.release.set()
    assert observer.drain(5) is True
    assert recorder.seen == [(1, "tracepond-metrics"), (2, "tracepond-metrics")]
    observer.close()


def test_a_full_queue_makes_the_submitter_aggregate_itself() -> None:
    recorder = _Recorder()
    recorder.release.clear()
    observer = BackgroundObserver(recorder, max_pending=2)
    observer.submit(_table(0), RESULT)
    assert recorder.entered.wait(5)  # the thread holds group 0
    for n in (1, 2, 3):  # 1 and 2 fill the queue; 3 finds no room
        observer.submit(_table(n), RESULT)
    recorder.release.set()
    assert observer.drain(5)
    assert sorted(n for n, _ in recorder.seen) == [0, 1, 2, 3]
    assert (3, threading.current_thread().name) in recorder.seen
    observer.close()


def test_a_failing_aggregation_is_logged_and_the_next_one_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[int] = []

    def observe(table: pa.Table, result: WriteResult) -> None:
        n = table["n"][0].as_py()
        if n == 1:
            raise ValueError("bad group")
        seen.append(n)

    observer = BackgroundObserver(observe)
    observer.submit(_table(1), RESULT)
    observer.submit(_table(2), RESULT)
    assert observer.drain(5)
    assert seen == [2]
    assert "GenAI metrics aggregation failed" in caplog.text
    observer.close()


def test_close_finishes_pending_work_then_later_groups_run_inline() -> None:
    recorder = _Recorder()
    observer = BackgroundObserver(recorder)
    observer.submit(_table(1), RESULT)
    observer.close()
    assert (1, "tracepond-metrics") in recorder.seen
    observer.submit(_table(2), RESULT)
    assert recorder.seen[-1] == (2, threading.current_thread().name)
