"""Deletion and retention (``delete_traces``, ``expired_trace_ids``, ``oldest_trace_ids``,
``project_retentions``, ``used_bytes``, ``drop_unused_origins``: see ``ConformanceStore``), API
keys, health, close, and cancelled reads; each test on a store of its own."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from ingest.otlp_build import BASE_NS, make_span, span_id, trace_id
from tracepond.deadline import Deadline
from tracepond.errors import QueryCancelled, QueryTimeout, StorageUnavailable
from tracepond.model.filters import Filters
from tracepond.model.keys import KeyRecord
from tracepond.model.records import SearchRequest, StatsRequest, StoreCapabilities, StoreHealth
from tracepond.projects import DEFAULT_PROJECT

from .build import table
from .conftest import ConformanceStore

S = 1_000_000_000
DAY = 24 * 3600 * S
TEAM = "team"


@dataclass
class Stored:
    a: bytes  # default, ended at +10 s, session s-a; the same id in TEAM ended at +5 s
    b: bytes  # default, ended at +20 s
    c: bytes  # default, ended at +30 s, one span from the "lonely" service


def write_three(store: ConformanceStore) -> Stored:
    store.projects_create(TEAM, retention_ns=DAY)
    stored = Stored(trace_id(), trace_id(), trace_id())
    session = {"session.id": "s-a"}
    root = span_id()
    store.write(
        [
            table(
                make_span(stored.a, root, "a", end=BASE_NS + 10 * S, attributes=session),
                make_span(stored.a, span_id(), "a.child", parent=root, end=BASE_NS + 9 * S),
                make_span(stored.b, span_id(), "b", end=BASE_NS + 20 * S),
                make_span(stored.c, span_id(), "c", end=BASE_NS + 30 * S),
            ),
            table(make_span(stored.c, span_id(), "c.lonely", end=BASE_NS + S), service="lonely"),
            table(make_span(stored.a, span_id(), "team.a", end=BASE_NS + 5 * S), project=TEAM),
        ]
    )
    return stored


def test_expired_and_oldest_traces(store: ConformanceStore) -> None:
    s = write_three(store)
    # Oldest first: traces whose spans all ended before the cutoff.
    assert store.expired_trace_ids(DEFAULT_PROJECT, BASE_NS + 25 * S, 10) == [s.a, s.b]
    assert store.expired_trace_ids(DEFAULT_PROJECT, BASE_NS + 25 * S, 1) == [s.a]
    assert store.expired_trace_ids(DEFAULT_PROJECT, BASE_NS + 10 * S, 10) == []  # not before
    assert store.expired_trace_ids(TEAM, BASE_NS + 25 * S, 10) == [s.a]
    assert store.expired_trace_ids("nope", BASE_NS + 25 * S, 10) == []
    # Every project's, oldest first by end time.
    expected = [(TEAM, s.a), (DEFAULT_PROJECT, s.a), (DEFAULT_PROJECT, s.b), (DEFAULT_PROJECT, s.c)]
    assert store.oldest_trace_ids(10) == expected
    assert store.oldest_trace_ids(2) == expected[:2]
    assert store.project_retentions() == {DEFAULT_PROJECT: None, TEAM: DAY}


def test_deleting_traces_whole_within_one_project(store: ConformanceStore) -> None:
    s = write_three(store)
    assert store.sessions(10, None, None, None).rows[0].session_id == "s-a"
    assert store.delete_traces(DEFAULT_PROJECT, [s.a, trace_id()]) == 1  # unknown ids ignored
    assert store.trace(s.a) is None and store.trace_spans(s.a) == []
    assert store.skeleton_rows(s.a) == [] and store.trace_watermark(s.a) is None
    assert store.counts(DEFAULT_PROJECT) == (3, 2)
    assert [t.trace_id for t in store.list_traces(10).traces] == sorted([s.b, s.c], reverse=True)
    assert store.search_traces(SearchRequest(Filters(name="a"))).count == 0
    assert store.search_spans(SearchRequest(Filters(name="a.child"))).count == 0
    assert store.sessions(10, None, None, None).rows == []
    stats = store.stats(StatsRequest(Filters(), BASE_NS, BASE_NS + S, None, None))
    assert [r.count for r in stats] == [3]
    # The same id in another project is another trace: untouched.
    team = store.trace(s.a, project=TEAM)
    assert team is not None and [r["name"] for r in team[1]] == ["team.a"]
    # Deleting is idempotent.
    assert store.delete_traces(DEFAULT_PROJECT, [s.a]) == 0
    assert store.delete_traces(DEFAULT_PROJECT, []) == 0


def test_deleting_only_traces_that_ended_before(store: ConformanceStore) -> None:
    """Expiry: a trace that received a later span since it was picked is kept."""
    s = write_three(store)
    assert store.delete_traces(DEFAULT_PROJECT, [s.b, s.c], ended_before=BASE_NS + 25 * S) == 1
    assert store.trace_summary(s.b) is None
    assert store.trace_summary(s.c) is not None
    assert store.counts() == (5, 3)  # a (2 spans) and c (2) here, a (1) in TEAM
    assert store.projects_get(DEFAULT_PROJECT).trace_count == 2  # type: ignore[union-attr]


def test_unused_origins_are_dropped_and_written_again(store: ConformanceStore) -> None:
    s = write_three(store)
    assert store.drop_unused_origins() == 0
    store.delete_traces(DEFAULT_PROJECT, [s.c])
    assert store.drop_unused_origins() == 1  # the "lonely" service's resource
    assert store.drop_unused_origins() == 0
    # A later span of that resource stores its origin again.
    trace, lonely = trace_id(), span_id()
    store.write([table(make_span(trace, lonely, "again"), service="lonely")])
    record = store.span(trace, lonely)
    assert record is not None and '"service.name":"lonely"' in record["resource_json"]
    # The other origins were kept: the remaining spans still read theirs.
    kept = store.trace(s.b)
    assert kept is not None and '"service.name":"svc"' in kept[1][0]["resource_json"]


def test_used_bytes_grow_with_the_data(store: ConformanceStore) -> None:
    before = store.used_bytes()
    size_before = store.database_bytes()
    assert isinstance(before, int) and before >= 0
    # Random bytes as hex: text no engine compresses below the bytes it encodes (half its
    # length), in two attributes each under the decoder's per-value limit (not truncated).
    entropy = 450_000
    blobs = {f"blob{i}": os.urandom(entropy).hex() for i in range(2)}
    store.write([table(make_span(trace_id(), span_id(), "big", attributes=blobs))])
    store.checkpoint()
    grown = 2 * entropy * 9 // 10  # what the payload must take, with room for the odd byte
    assert store.used_bytes() >= before + grown
    size = store.database_bytes()
    if size is not None:  # None: the engine cannot say (the contract allows it)
        assert size_before is not None and size >= size_before + grown


def test_capabilities_are_declared(store: ConformanceStore) -> None:
    assert isinstance(store.capabilities, StoreCapabilities)
    if not store.capabilities.housekeeping:
        # The writer never asks such a store, but the calls are harmless.
        assert store.commit_room() is None
        store.checkpoint()


# -- API keys -----------------------------------------------------------------------------------


def test_api_keys_inserted_listed_and_revoked(store: ConformanceStore) -> None:
    assert store.api_keys() == []
    second = KeyRecord("k2", "reader", TEAM, "read", "b" * 64, created_ns=20, expires_ns=99)
    first = KeyRecord("k1", "ci", None, "ingest", "a" * 64, created_ns=10)
    store.insert_key(second)
    store.insert_key(first)
    assert store.api_keys() == [first, second]  # by creation time
    assert store.revoke_key("k1", 50)
    assert store.revoke_key("k1", 60)  # revoking twice keeps the first time
    assert not store.revoke_key("nope", 70)
    assert store.api_keys() == [
        KeyRecord("k1", "ci", None, "ingest", "a" * 64, created_ns=10, revoked_ns=50),
        second,
    ]


# -- health, close, cancelled reads -------------------------------------------------------------


def test_health_and_close(store: ConformanceStore) -> None:
    assert store.health() == StoreHealth("ok")
    assert store.health().writable
    assert store.recover()  # nothing to recover from
    room = store.commit_room()
    assert room is None or room > 0
    store.close()
    assert store.health().state == "closed" and not store.health().writable
    late = table(make_span(trace_id(), span_id(), "late"))
    with pytest.raises(StorageUnavailable):
        store.write([late])
    with pytest.raises(StorageUnavailable):
        store.delete_traces(DEFAULT_PROJECT, [trace_id()])
    with pytest.raises(StorageUnavailable):
        store.insert_key(KeyRecord("k", "n", None, "read", "c" * 64, 1))
    assert not store.recover()
    store.close()  # closing twice is harmless


def test_reads_under_a_cancelled_deadline_raise(store: ConformanceStore) -> None:
    trace = trace_id()
    store.write([table(make_span(trace, span_id(), "root"))])
    gone = Deadline(None)
    gone.cancel("disconnected")
    with pytest.raises(QueryCancelled), store.cancellable(gone):
        pass
    deadline = Deadline(None)
    with store.cancellable(deadline):
        assert store.trace_summary(trace) is not None
        deadline.cancel("disconnected")
        with pytest.raises(QueryCancelled):
            store.trace_summary(trace)
        with pytest.raises(QueryCancelled):
            store.search_traces(SearchRequest(Filters()))
        with pytest.raises(QueryCancelled):
            store.stats(StatsRequest(Filters(), BASE_NS, BASE_NS + S, None, None))
    timed_out = Deadline(3600)
    with store.cancellable(timed_out):
        timed_out.cancel("timeout")
        with pytest.raises(QueryTimeout):
            store.trace_spans(trace)
    # Outside the block, reads run again.
    assert store.trace_summary(trace) is not None
    assert store.search_traces(SearchRequest(Filters())).count == 1
