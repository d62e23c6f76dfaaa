"""Newest-first trace search on one span condition, without reading every match.

The default search (newest traces first) with one condition on span contents, such as a full
text, used to read the spans of every candidate trace for the page and its count. Two facts let
it stop early instead:

* a trace starts with its first span, so every span of a trace that starts at or after ``low``
  starts at or after ``low`` too: the matching traces that start at or after ``low`` are found
  by reading only the spans that start at or after ``low`` (the sort key begins with the start
  hour, so that is a range of the primary index). If at least a page of them is found, no older
  trace can be on the page. Otherwise ``low`` moves back, by growing steps, until it passes the
  oldest candidate, where the read is the plain one.
* the count is capped (``count_cap``): the distinct matching trace ids are counted as the spans
  are read, and the read stops at one more than the cap.

The first step's width comes from the count: the candidates' time range divided by the matches,
times the page, with a margin.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final

from tracepond.model.records import SearchRequest, TraceSummary
from tracepond.store.clickhouse import _search_sql as q
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._reads import SUMMARY_SELECT, summary
from tracepond.store.clickhouse._sql import run
from tracepond.store.clickhouse._window import Window

# How much wider than the estimate the first step is, and how much each further step grows.
_MARGIN: Final = 4
_GROWTH: Final = 8
_MIN_STEP_NS: Final = 60 * 1_000_000_000


@dataclass(frozen=True)
class Candidates:
    """The traces a search may return, before its span condition: their conditions on the
    summaries, and where their spans are (start times, ingest times up to the snapshot)."""

    trace_where: list[str]
    # The parameters of trace_where and of the span condition; statements add theirs to it.
    params: Params
    project: str
    # True when trace_where says no more than project and snapshot: every trace with a matching
    # span committed by the snapshot is then a candidate, and the count needs no summaries.
    any_trace: bool
    window: Window

    def spans_where(self, p: Params, low_ns: int | None = None) -> str:
        """The candidates' spans that start at or after ``low_ns`` (None: all of them)."""
        window = self.window
        if low_ns is not None and low_ns > window.low_ns:
            window = replace(window, low_ns=low_ns)
        return window.sql(p, self.project, "s.")


def applies(request: SearchRequest, predicates: list[str], has_query: bool) -> bool:
    """Whether this plan answers ``request``: newest first, one span condition."""
    return (
        request.sort == "start_time"
        and request.descending
        and len(predicates) == 1
        and not has_query
    )


def capped_count(client: Any, db: str, found: Candidates, predicate: str, cap: int) -> int:
    """How many candidates have a span matching ``predicate``, counted up to ``cap + 1``."""
    p = found.params
    where = [found.spans_where(p), predicate]
    if not found.any_trace:
        where.append(_candidate_ids(db, found))
    sql = (
        f"SELECT count() FROM (SELECT DISTINCT s.trace_id FROM {db}.spans AS s"
        f" WHERE {' AND '.join(where)} LIMIT {p.add(cap + 1)})"
    )
    return int(run(client, sql, p)[1][0][0])


@dataclass(frozen=True)
class NewestPage:
    """One page of the search: ``request``'s, after keyset ``after`` (None: the first)."""

    client: Any
    db: str
    found: Candidates
    predicate: str
    request: SearchRequest
    after: tuple[Any, ...] | None

    def rows(self, matches: int) -> list[TraceSummary]:
        """Up to ``limit + 1`` matching traces, newest first; ``matches``: the capped count."""
        if matches == 0:
            return []
        top = int(self.after[0]) if self.after is not None else self.found.window.newest_start_ns
        step = self._first_step(top, matches)
        while True:
            low = top - step
            bounded = low > self.found.window.low_ns
            rows = self._since(low if bounded else None)
            if len(rows) > self.request.limit or not bounded:
                return rows
            step *= _GROWTH

    def _first_step(self, top: int, matches: int) -> int:
        span = max(top - self.found.window.low_ns, 1)
        wanted = self.request.limit + 1
        return max(_MIN_STEP_NS, span * wanted * _MARGIN // matches)

    def _since(self, low: int | None) -> list[TraceSummary]:
        """The page among the traces that start at or after ``low`` (None: all of them)."""
        found, p = self.found, self.found.params
        where = list(found.trace_where)
        if low is not None:
            where.append(f"t.start_ns >= {p.add(low)}")
        sort = q.TRACE_SORT["start_time"]
        if self.after is not None:
            where.append(q.keyset(sort, True, self.after, ["t.trace_id"], p))
        spans = found.spans_where(p, low)
        where.append(
            f"t.trace_id IN (SELECT s.trace_id FROM {self.db}.spans AS s FINAL"
            f" WHERE {spans} AND {self.predicate})"
        )
        sql = (
            f"SELECT {SUMMARY_SELECT}, {sort} AS sort_value FROM {self.db}.traces AS t FINAL"
            f" WHERE {' AND '.join(where)} ORDER BY {q.order_by(sort, True, ['t.trace_id'])}"
            f" LIMIT {p.add(self.request.limit + 1)}"
        )
        _, rows = run(self.client, sql, p)
        return [summary(tuple(row[:-1])) for row in rows]


def _candidate_ids(db: str, found: Candidates) -> str:
    return (
        f"s.trace_id IN (SELECT t.trace_id FROM {db}.traces AS t FINAL"
        f" WHERE {' AND '.join(found.trace_where)})"
    )
