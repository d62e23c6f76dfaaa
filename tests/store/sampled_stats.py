"""Stats over more rows than a cell's quantiles hold (store/_stats.py): the data both stores'
tests write by SQL, the requests they make, and what the rows must be. Counts are exact;
quantiles are exact in a cell of at most QUANTILE_SAMPLE rows, and beyond it within a rank
tolerance of the exact ones: between the exact quantiles at q - 5 sigma and q + 5 sigma, sigma
being the rank's standard deviation in a uniform sample of QUANTILE_SAMPLE rows."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from tracepond.model.filters import Filters
from tracepond.model.records import StatsRequest, StatsRow
from tracepond.store._stats import QUANTILE_SAMPLE

# Row i (a span, or a trace) starts at START + i and lasts (i * PRIME) % rows ns: each
# duration once (rows and PRIME share no factor), spread evenly over the rows.
START = 1_000
PRIME = 7_919
# Rows below SMALL are of the model "small" (their spans' model, their traces' only model),
# a cell under the sample size; the others of the model "odd" when i is odd, of none when even.
SMALL = 5_000
QUANTILES = (0.5, 0.95, 0.99)


def requests(rows: int) -> Iterator[tuple[StatsRequest, int | None]]:
    """(request, bucket size): one cell of every row; then by model in buckets of half the
    rows, which gives three buckets, large cells of "odd" and of no model in the first two,
    and small ones (the "small" model's, and the last bucket's 500 rows a group)."""
    until = START + rows
    yield StatsRequest(Filters(), 0, until, None, None), None
    yield StatsRequest(Filters(), 0, until, rows // 2, "model"), rows // 2


def expected_cells(rows: int, bucket_ns: int | None) -> dict[tuple[int, str | None], list[int]]:
    """The sorted durations of each (bucket, group) cell of ``requests``."""
    cells: dict[tuple[int, str | None], list[int]] = {}
    for i in range(rows):
        if bucket_ns is None:
            key: tuple[int, str | None] = (0, None)
        else:
            key = ((START + i) // bucket_ns * bucket_ns, model(i))
        cells.setdefault(key, []).append(i * PRIME % rows)
    return {key: sorted(values) for key, values in cells.items()}


def model(i: int) -> str | None:
    if i < SMALL:
        return "small"
    return "odd" if i % 2 else None


def exact(ordered: list[int], q: float) -> float:
    """Linear interpolation between the closest ranks (DuckDB's quantile_cont)."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def check(rows: list[StatsRow], cells: dict[tuple[int, str | None], list[int]]) -> None:
    assert [(r.bucket_start_ns, r.group) for r in rows] == sorted(
        cells, key=lambda k: (k[0], k[1] is not None, k[1] or "")
    )
    for row in rows:
        ordered = cells[(row.bucket_start_ns, row.group)]
        assert row.count == len(ordered)
        for q, got in zip(QUANTILES, (row.p50_ns, row.p95_ns, row.p99_ns), strict=True):
            if len(ordered) <= QUANTILE_SAMPLE:
                assert got == pytest.approx(exact(ordered, q), rel=1e-12)
            else:
                spread = 5 * math.sqrt(q * (1 - q) / QUANTILE_SAMPLE)
                low, high = max(q - spread, 0.0), min(q + spread, 1.0)
                assert exact(ordered, low) <= got <= exact(ordered, high), (row, q)
