"""Sessions (``sessions``, ``session_traces``) and aggregates (``stats`` of spans, ``trace_stats``
of traces) over the shared dataset, each expected row computed from the seed's declarations."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from tracepond.model.filters import Filters
from tracepond.model.records import SessionRow, StatsRequest, StatsRow, TraceSummary
from tracepond.projects import DEFAULT_PROJECT
from tracepond.query.filters import parse_query

from .seed import ACME, EMPTY, MINUTE, T0, S, Seeded, SpanSpec, Trace, comparable

# -- sessions -----------------------------------------------------------------------------------


def session_row(session: str, summaries: list[TraceSummary]) -> SessionRow:
    costs = [s.cost for s in summaries if s.cost is not None]
    users = {s.user_id for s in summaries}
    assert len(users) == 1  # the seed's sessions have one user each: any_value is exact
    return SessionRow(
        session_id=session,
        first_seen_ns=min(s.start_ns for s in summaries),
        last_seen_ns=max(s.end_ns for s in summaries),
        trace_count=len(summaries),
        input_tokens=sum(s.input_tokens for s in summaries),
        output_tokens=sum(s.output_tokens for s in summaries),
        total_tokens=sum(s.total_tokens for s in summaries),
        cost=pytest.approx(sum(costs)) if costs else None,
        error_count=sum(s.error_count > 0 for s in summaries),  # traces with an error
        user_id=users.pop(),
    )


def sessions(seeded: Seeded, *args: Any) -> list[SessionRow]:
    """The rows of one sessions page (limit, after, since, user[, project])."""
    return seeded.store.sessions(*args).rows


def expected_sessions(
    seeded: Seeded, project: str = DEFAULT_PROJECT, keep: Callable[[TraceSummary], bool] = bool
) -> list[SessionRow]:
    """Most recently seen first, then by session id descending."""
    by_session: dict[str, list[TraceSummary]] = {}
    for trace in seeded.of(project):
        summary = trace.summary()
        if summary.session_id is not None and keep(summary):
            by_session.setdefault(summary.session_id, []).append(summary)
    rows = [session_row(session, summaries) for session, summaries in by_session.items()]
    return sorted(rows, key=lambda r: (r.last_seen_ns, r.session_id), reverse=True)


def test_sessions_most_recent_first(seeded: Seeded) -> None:
    expected = expected_sessions(seeded)
    # sess-c and sess-d were last seen at the same moment: the larger id first.
    assert [r.session_id for r in expected] == ["sess-d", "sess-c", "sess-b", "sess-a"]
    page = seeded.store.sessions(10, None, None, None)
    assert (page.rows, page.next_after) == (expected, None)
    assert expected[3].trace_count == 2 and expected[3].error_count == 1


def test_sessions_page_by_last_seen_and_id(seeded: Seeded) -> None:
    expected = expected_sessions(seeded)
    seen: list[SessionRow] = []
    after = None
    for _ in range(10):
        page = seeded.store.sessions(1, after, None, None)
        assert page.rows == expected[len(seen) : len(seen) + 1]
        seen += page.rows
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == expected
    # A page that ends exactly at the last session has no next token.
    assert seeded.store.sessions(len(expected), None, None, None).next_after is None
    before_last = seeded.store.sessions(len(expected) - 1, None, None, None).next_after
    assert before_last is not None
    last = seeded.store.sessions(10, before_last, None, None)
    assert (last.rows, last.next_after) == (expected[-1:], None)


def test_sessions_since_and_by_user(seeded: Seeded) -> None:
    since = T0 + 14 * S  # only traces that ended at or after it
    assert sessions(seeded, 10, None, since, None) == expected_sessions(
        seeded, keep=lambda s: s.end_ns >= since
    )
    assert [r.trace_count for r in sessions(seeded, 10, None, since, None)] == [1] * 4
    assert sessions(seeded, 10, None, None, "bob") == expected_sessions(
        seeded, keep=lambda s: s.user_id == "bob"
    )
    assert sessions(seeded, 10, None, None, "nobody") == []


def test_sessions_stay_within_their_project(seeded: Seeded) -> None:
    """acme has a session of the same id: its own row, with its own trace."""
    acme = sessions(seeded, 10, None, None, None, ACME)
    assert acme == expected_sessions(seeded, ACME)
    assert [(r.session_id, r.trace_count, r.error_count) for r in acme] == [("sess-a", 1, 1)]
    assert sessions(seeded, 10, None, None, None, EMPTY) == []


def test_session_traces_in_start_order(seeded: Seeded) -> None:
    got = seeded.store.session_traces("sess-a", 10)
    assert [comparable(s) for s in got] == [
        comparable(seeded[name].summary()) for name in ("rag_ok", "agent_err")
    ]
    assert [s.trace_id for s in seeded.store.session_traces("sess-a", 1)] == [
        seeded["rag_ok"].trace_id
    ]
    assert [s.trace_id for s in seeded.store.session_traces("sess-a", 10, ACME)] == [
        seeded["acme_rag"].trace_id
    ]
    assert seeded.store.session_traces("nobody", 10) == []


# -- stats --------------------------------------------------------------------------------------


def quantile(values: list[int], q: float) -> float:
    """Linear interpolation between the closest ranks (quantile_cont)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(
    bucket: int,
    group: Any,
    durations: list[int],
    errors: int,
    tokens: Iterable[tuple[int, int]],
    costs: list[float | None],
) -> StatsRow:
    pairs = list(tokens)
    known = [c for c in costs if c is not None]
    return StatsRow(
        bucket_start_ns=bucket,
        group=group,
        count=len(durations),
        error_count=errors,
        p50_ns=pytest.approx(quantile(durations, 0.5)),
        p95_ns=pytest.approx(quantile(durations, 0.95)),
        p99_ns=pytest.approx(quantile(durations, 0.99)),
        input_tokens=sum(i for i, _ in pairs),
        output_tokens=sum(o for _, o in pairs),
        cost=pytest.approx(sum(known)) if known else None,
    )


def bucket_of(start_ns: int, since: int, bucket_ns: int | None) -> int:
    """Buckets are aligned to the epoch (docs/query.md); one row over the range: ``since``."""
    return since if bucket_ns is None else start_ns // bucket_ns * bucket_ns


def ordered(rows: dict[tuple[int, Any], StatsRow]) -> list[StatsRow]:
    """By bucket, then group with None first."""
    return [rows[k] for k in sorted(rows, key=lambda k: (k[0], k[1] is not None, k[1] or ""))]


SPAN_GROUPS: dict[str | None, Callable[[Trace, SpanSpec], Any]] = {
    None: lambda t, s: None,
    "model": lambda t, s: s.model,
    "service": lambda t, s: t.service_of(s),
    "name": lambda t, s: s.name,
    "category": lambda t, s: s.category,
}


def expected_stats(
    seeded: Seeded,
    since: int,
    until: int,
    bucket_ns: int | None,
    group_by: str | None,
    keep: Callable[[Trace, SpanSpec], bool] = lambda t, s: True,
    project: str = DEFAULT_PROJECT,
) -> list[StatsRow]:
    groups: dict[tuple[int, Any], list[SpanSpec]] = {}
    for trace in seeded.of(project):
        for spec in trace.spans:
            if since <= spec.start_ns < until and keep(trace, spec):
                key = (
                    bucket_of(spec.start_ns, since, bucket_ns),
                    SPAN_GROUPS[group_by](trace, spec),
                )
                groups.setdefault(key, []).append(spec)
    return ordered(
        {
            key: aggregate(
                key[0],
                key[1],
                [s.duration_ns for s in spans],
                sum(s.is_error for s in spans),
                ((s.input_tokens or 0, s.output_tokens or 0) for s in spans),
                [s.cost for s in spans],
            )
            for key, spans in groups.items()
        }
    )


RANGES = [
    pytest.param(T0, T0 + 2 * MINUTE, id="whole-minutes"),
    # A range starting mid-minute: its first bucket starts at the minute, counts from `since`.
    pytest.param(T0 + 10 * S, T0 + 61 * S, id="mid-minute"),
]


@pytest.mark.parametrize(("since", "until"), RANGES)
@pytest.mark.parametrize("bucket_ns", [MINUTE, None], ids=["1m", "whole"])
@pytest.mark.parametrize("group_by", list(SPAN_GROUPS))
def test_span_stats_by_bucket_and_group(
    seeded: Seeded, group_by: str | None, bucket_ns: int | None, since: int, until: int
) -> None:
    request = StatsRequest(Filters(), since, until, bucket_ns, group_by)
    expected = expected_stats(seeded, since, until, bucket_ns, group_by)
    assert seeded.store.stats(request) == expected
    assert len(expected) > 1 or group_by is None


SPAN_STAT_FILTERS: list[tuple[dict[str, Any], Callable[[Trace, SpanSpec], bool]]] = [
    ({"service": "rag"}, lambda t, s: t.service_of(s) == "rag"),
    ({"status": "error"}, lambda t, s: s.is_error),
    (
        {"category": "llm", "min_tokens": 40},
        lambda t, s: s.category == "llm" and (s.total_tokens or 0) >= 40,
    ),
    ({"session_id": "sess-a"}, lambda t, s: t.session_id == "sess-a"),  # the trace's session
    ({"query": parse_query('{ category = "tool" }')}, lambda t, s: s.category == "tool"),
    (
        {"text": "paris"},
        lambda t, s: (t.name, s.key) in {("rag_ok", "root"), ("rag_ok", "retrieve")},
    ),
]


@pytest.mark.parametrize(("kwargs", "keep"), SPAN_STAT_FILTERS, ids=lambda v: str(v)[:40])
def test_span_stats_with_filters(
    seeded: Seeded, kwargs: dict[str, Any], keep: Callable[[Trace, SpanSpec], bool]
) -> None:
    since, until = T0, T0 + 2 * MINUTE
    request = StatsRequest(Filters(**kwargs), since, until, MINUTE, "name")
    assert seeded.store.stats(request) == expected_stats(seeded, since, until, MINUTE, "name", keep)


def test_span_stats_stay_within_their_project(seeded: Seeded) -> None:
    since, until = T0, T0 + 2 * MINUTE
    request = StatsRequest(Filters(project=ACME), since, until, None, "service")
    assert seeded.store.stats(request) == expected_stats(
        seeded, since, until, None, "service", project=ACME
    )
    assert seeded.store.stats(StatsRequest(Filters(project=EMPTY), since, until, None, None)) == []
    assert seeded.store.stats(StatsRequest(Filters(), T0 - 2 * MINUTE, T0, MINUTE, None)) == []


# -- trace stats --------------------------------------------------------------------------------

TRACE_GROUPS: dict[str | None, Callable[[TraceSummary], list[Any]]] = {
    None: lambda s: [None],
    "service": lambda s: [s.service_name],
    "name": lambda s: [s.root_name],
    # A trace counts under every model its leaf calls used, under None when it used none.
    "model": lambda s: list(s.models) or [None],
}


def expected_trace_stats(
    seeded: Seeded,
    since: int,
    until: int,
    bucket_ns: int | None,
    group_by: str | None,
    keep: Callable[[Trace], bool] = lambda t: True,
    only_group: Any = "any",
) -> list[StatsRow]:
    groups: dict[tuple[int, Any], list[TraceSummary]] = {}
    for trace in seeded.of():
        summary = trace.summary()
        if since <= summary.start_ns < until and keep(trace):
            for group in TRACE_GROUPS[group_by](summary):
                if only_group == "any" or group == only_group:
                    key = (bucket_of(summary.start_ns, since, bucket_ns), group)
                    groups.setdefault(key, []).append(summary)
    return ordered(
        {
            key: aggregate(
                key[0],
                key[1],
                [s.end_ns - s.start_ns for s in summaries],
                sum(s.error_count > 0 for s in summaries),
                ((s.input_tokens, s.output_tokens) for s in summaries),
                [s.cost for s in summaries],
            )
            for key, summaries in groups.items()
        }
    )


@pytest.mark.parametrize(("since", "until"), RANGES)
@pytest.mark.parametrize("bucket_ns", [MINUTE, None], ids=["1m", "whole"])
@pytest.mark.parametrize("group_by", list(TRACE_GROUPS))
def test_trace_stats_by_bucket_and_group(
    seeded: Seeded, group_by: str | None, bucket_ns: int | None, since: int, until: int
) -> None:
    request = StatsRequest(Filters(), since, until, bucket_ns, group_by)
    expected = expected_trace_stats(seeded, since, until, bucket_ns, group_by)
    assert seeded.store.trace_stats(request) == expected
    assert len(expected) > 1 or group_by is None


def test_trace_stats_with_filters(seeded: Seeded) -> None:
    since, until = T0, T0 + 2 * MINUTE

    def check(
        filters: Filters,
        group_by: str | None,
        keep: Callable[[Trace], bool],
        only_group: Any = "any",
    ) -> None:
        request = StatsRequest(filters, since, until, MINUTE, group_by)
        expected = expected_trace_stats(seeded, since, until, MINUTE, group_by, keep, only_group)
        assert seeded.store.trace_stats(request) == expected
        assert expected

    check(Filters(status="error"), "service", lambda t: t.summary().error_count > 0)
    check(Filters(service="rag"), "name", lambda t: t.summary().service_name == "rag")
    # With a model filter, only that model's group (rag_ok also used an embedding model).
    check(Filters(model="gpt-4o"), "model", lambda t: "gpt-4o" in t.summary().models, "gpt-4o")
    check(Filters(text="eiffel"), None, lambda t: t.name == "rag_ok")
    check(
        Filters(query=parse_query('{ category = "tool" }')),
        "model",
        lambda t: any(s.category == "tool" for s in t.spans),
    )
    acme = StatsRequest(Filters(project=ACME), since, until, None, None)
    assert [r.count for r in seeded.store.trace_stats(acme)] == [2]
