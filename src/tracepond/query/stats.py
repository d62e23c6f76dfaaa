"""Aggregates for charts: parameters validated here, SQL in store/_stats.py.

``level="span"`` aggregates spans starting in the range; ``level="trace"`` aggregates traces
starting in it, from their summaries (a trace of 40 spans counts once). Both answer rows of the
same shape."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Final

from tracepond.errors import InvalidRequest
from tracepond.model.filters import Filters
from tracepond.model.records import StatsRequest
from tracepond.query import _render
from tracepond.query.suggest import did_you_mean, nearest, one_of
from tracepond.store.contract import SpanReader

GROUPS: Final = ("model", "service", "name", "category")
# A trace has spans of many categories, so traces are not grouped by category.
TRACE_GROUPS: Final = ("model", "service", "name")
LEVELS: Final = ("span", "trace")
MAX_BUCKETS: Final = 10_000
DAY_NS: Final = 86_400 * 10**9


def stats(
    store: SpanReader,
    filters: Filters,
    bucket_ns: int | None,
    group_by: str | None,
    level: str = "span",
) -> dict[str, Any]:
    until = filters.until_ns if filters.until_ns is not None else time.time_ns()
    since = filters.since_ns if filters.since_ns is not None else until - DAY_NS
    if since >= until:
        raise InvalidRequest("since must be before until")
    if level not in LEVELS:
        meant = did_you_mean(nearest(level, LEVELS))
        raise InvalidRequest(f"level: `{level}` is not one of {one_of(LEVELS)}.{meant}")
    groups = TRACE_GROUPS if level == "trace" else GROUPS
    if group_by is not None and group_by not in groups:
        meant = did_you_mean(nearest(group_by, groups))
        raise InvalidRequest(
            f"group_by: `{group_by}` is not one of {one_of(groups)} at level={level}.{meant}"
        )
    if bucket_ns is not None and (
        bucket_ns <= 0 or _bucket_count(since, until, bucket_ns) > MAX_BUCKETS
    ):
        raise InvalidRequest(f"bucket must be positive and give at most {MAX_BUCKETS} buckets")
    # The range is applied to span (or trace) start times by the stats query itself.
    request = StatsRequest(
        replace(filters, since_ns=None, until_ns=None), since, until, bucket_ns, group_by
    )
    rows = store.trace_stats(request) if level == "trace" else store.stats(request)
    return {
        "since_ns": since,
        "until_ns": until,
        "bucket_ns": bucket_ns,
        "group_by": group_by,
        "level": level,
        "rows": [_render.stats_row(row) for row in rows],
    }


def _bucket_count(since: int, until: int, bucket_ns: int) -> int:
    """Buckets of [since, until): they are aligned to the clock (multiples of the bucket size
    since the epoch, store/_stats.py), so the first starts at or before ``since``."""
    return (until - 1) // bucket_ns - since // bucket_ns + 1
