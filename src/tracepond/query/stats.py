"""Aggregates for charts: parameters validated here, SQL in store/_stats.py."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Final

from tracepond.errors import InvalidRequest
from tracepond.query.filters import Filters
from tracepond.store.base import SpanStore, StatsRequest

GROUPS: Final = ("model", "service", "name", "category")
MAX_BUCKETS: Final = 10_000
DAY_NS: Final = 86_400 * 10**9


def stats(
    store: SpanStore,
    filters: Filters,
    bucket_ns: int | None,
    group_by: str | None,
) -> dict[str, Any]:
    until = filters.until_ns if filters.until_ns is not None else time.time_ns()
    since = filters.since_ns if filters.since_ns is not None else until - DAY_NS
    if since >= until:
        raise InvalidRequest("since must be before until")
    if group_by is not None and group_by not in GROUPS:
        raise InvalidRequest(f"group_by must be one of {', '.join(GROUPS)}, got {group_by!r}")
    if bucket_ns is not None and (bucket_ns <= 0 or (until - since) // bucket_ns > MAX_BUCKETS):
        raise InvalidRequest(f"bucket must be positive and give at most {MAX_BUCKETS} buckets")
    # The range is applied to span start times by the stats query itself.
    span_filters = replace(filters, since_ns=None, until_ns=None)
    rows = store.stats(StatsRequest(span_filters, since, until, bucket_ns, group_by))
    for row in rows:
        row["error_rate"] = row["error_count"] / row["count"] if row["count"] else 0.0
    return {
        "since_ns": since,
        "until_ns": until,
        "bucket_ns": bucket_ns,
        "group_by": group_by,
        "rows": rows,
    }
