"""/api/stats buckets are aligned to the clock in UTC: a 1m bucket starts at second :00, 1h at
the hour, 1d at midnight UTC, odd sizes at multiples of their size since the epoch, whatever the
range's start; the first bucket holds the range's start, the last its end."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id

S = 10**9
MIDNIGHT = 1_709_337_600 * S  # 2024-03-02T00:00:00Z
# Span (and trace) starts around midnight, minute and hour boundaries.
STARTS = [
    MIDNIGHT - 3 * S,
    MIDNIGHT + 1 * S,
    MIDNIGHT + 59 * S,
    MIDNIGHT + 61 * S,
    MIDNIGHT + 7 * 60 * S,
    MIDNIGHT + 3601 * S,
    MIDNIGHT + 7199 * S,
    MIDNIGHT + 7200 * S + 100_000_000,  # in the bucket of the range's end, whatever the size
]
# A range that starts and ends mid-second, like "now - 24h" does.
SINCE = MIDNIGHT - 3_400_000_000  # second 56.6 of the minute before midnight
UNTIL = MIDNIGHT + 7200 * S + 300_000_000


@pytest.fixture(scope="module")
def service(tracepond_server: Any) -> str:
    name = f"buckets-{os.urandom(3).hex()}"
    spans = [make_span(trace_id(), span_id(), "step", start=start) for start in STARTS]
    response = tracepond_server.post_otlp(make_request(spans, service=name).SerializeToString())
    assert response.status_code == 200, response.text
    return name


@pytest.mark.parametrize(
    ("bucket", "size"),
    [("1m", 60 * S), ("5m", 300 * S), ("7m", 420 * S), ("1h", 3600 * S), ("1d", 86400 * S)],
)
@pytest.mark.parametrize("level", ["span", "trace"])
def test_buckets_start_on_clock_boundaries(
    tracepond_server: Any, service: str, bucket: str, size: int, level: str
) -> None:
    stats = tracepond_server.get_json(
        "/api/stats",
        service=service,
        bucket=bucket,
        level=level,
        since=str(SINCE),
        until=str(UNTIL),
    )
    counts = {row["bucket_start_ns"]: row["count"] for row in stats["rows"]}
    assert counts == Counter(start // size * size for start in STARTS)
    assert all(start % size == 0 for start in counts)
    first, last = min(counts), max(counts)
    assert first <= SINCE < first + size  # the first bucket holds the range's start
    assert last <= UNTIL < last + size  # the last holds its end
    assert (stats["since_ns"], stats["until_ns"], stats["bucket_ns"]) == (SINCE, UNTIL, size)


def test_day_buckets_start_at_midnight_utc(tracepond_server: Any, service: str) -> None:
    stats = tracepond_server.get_json(
        "/api/stats", service=service, bucket="1d", since=str(SINCE), until=str(UNTIL)
    )
    assert [(r["bucket_start_ns"], r["count"]) for r in stats["rows"]] == [
        (MIDNIGHT - 86400 * S, 1),
        (MIDNIGHT, 7),
    ]


def test_bucket_count_limit_counts_aligned_buckets(tracepond_server: Any, service: str) -> None:
    # 10,000 one-second buckets fit exactly when the range is aligned, not when it is shifted
    # by half a second (it then touches 10,001).
    aligned = {"since": str(MIDNIGHT), "until": str(MIDNIGHT + 10_000 * S)}
    assert tracepond_server.get("/api/stats", bucket="1s", **aligned).status_code == 200
    shifted = {"since": str(MIDNIGHT + S // 2), "until": str(MIDNIGHT + 10_000 * S + S // 2)}
    assert tracepond_server.get("/api/stats", bucket="1s", **shifted).status_code == 400


def test_extreme_ranges_stay_in_range(tracepond_server: Any, service: str) -> None:
    # The first bucket of a range starting at the int64 minimum would start before it: kept in
    # range (issue 18: no request makes the store overflow).
    extreme = {"since": str(-(2**63)), "until": str(2**63 - 1), "service": service}
    stats = tracepond_server.get_json("/api/stats", bucket=str(2**62), **extreme)
    assert sum(r["count"] for r in stats["rows"]) == len(STARTS)
    assert all(-(2**63) <= r["bucket_start_ns"] < 2**63 for r in stats["rows"])
