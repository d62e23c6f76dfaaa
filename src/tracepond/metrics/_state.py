"""Thread-safe metric state: counters and histograms keyed by label tuples, with a cap on the
number of distinct values each label may take (past it, values are folded into ``"other"``) and
on the length of each value (longer ones are cut, ending in ``CUT_MARKER``).

The writer thread adds whole groups (already aggregated with pyarrow) and a scrape reads a copy;
one lock guards both, held only for dictionary updates.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

OTHER = "other"
UNKNOWN = "unknown"
# Series per metric at most: label values are capped one by one (LabelCap), but their
# combinations could still multiply; past this, new combinations go to the all-"other" series.
MAX_SERIES = 5_000
# Bytes (UTF-8) a label value may take. Values come from client data (model, service...): one
# 1 MiB model name would otherwise be held in memory and written out, escaped, in every series
# that carries it, on every scrape.
MAX_LABEL_BYTES = 128
CUT_MARKER = "\u2026"  # an ellipsis: the value was longer
_MARKER_BYTES = len(CUT_MARKER.encode())


def _admit(known: Mapping[tuple[str, ...], object], labels: tuple[str, ...]) -> tuple[str, ...]:
    if labels in known or len(known) < MAX_SERIES:
        return labels
    return tuple(OTHER for _ in labels)


def cut_label(text: str, max_bytes: int = MAX_LABEL_BYTES) -> str:
    """``text`` if its UTF-8 form fits in ``max_bytes``; else its longest prefix that fits
    together with ``CUT_MARKER``, cut between two characters."""
    if len(text) <= max_bytes // 4:  # no character takes more than 4 bytes: it fits
        return text
    head = text[: max_bytes + 1]  # enough characters to tell whether it fits
    encoded = head.encode("utf-8", "replace")
    if len(head) == len(text) and len(encoded) <= max_bytes:
        return text
    room = max_bytes - _MARKER_BYTES
    # A character cut in two at `room` leaves an incomplete sequence at the end: dropped.
    return encoded[:room].decode("utf-8", "ignore") + CUT_MARKER


class LabelCap:
    """Admits the first ``limit`` distinct values of one label; later ones become ``"other"``.
    Values longer than ``MAX_LABEL_BYTES`` are cut first (``cut_label``).

    Bounded memory whatever a client sends: a misbehaving producer that puts a request id in the
    model name costs one ``other`` series, not one series per request; one that sends a
    megabyte-long model name costs a 128-byte label."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self.folded = 0

    def __call__(self, value: object) -> str:
        text = UNKNOWN if value is None or value == "" else cut_label(str(value))
        if text in self._seen:
            return text
        if len(self._seen) < self.limit:
            self._seen.add(text)
            return text
        self.folded += 1
        return OTHER


@dataclass
class Histogram:
    """Cumulative-on-read histogram: per-bucket counts (last = +Inf), sum and count."""

    bounds: tuple[float, ...]
    counts: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    sums: dict[tuple[str, ...], float] = field(default_factory=dict)

    def add(self, labels: tuple[str, ...], bucket: int, count: int, total: float) -> None:
        labels = _admit(self.counts, labels)
        row = self.counts.get(labels)
        if row is None:
            row = self.counts[labels] = [0] * (len(self.bounds) + 1)
            self.sums[labels] = 0.0
        row[bucket] += count
        self.sums[labels] += total

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        bucket = next((i for i, b in enumerate(self.bounds) if value <= b), len(self.bounds))
        self.add(labels, bucket, 1, value)

    def snapshot(self) -> list[tuple[tuple[str, ...], list[tuple[str, float]], float]]:
        """(labels, cumulative buckets as (le, count) incl. "+Inf", sum) per series."""
        out = []
        for labels, row in self.counts.items():
            cumulative: list[tuple[str, float]] = []
            running = 0
            for bound, count in zip((*map(_le, self.bounds), "+Inf"), row, strict=True):
                running += count
                cumulative.append((bound, float(running)))
            out.append((labels, cumulative, self.sums[labels]))
        return out


def _le(bound: float) -> str:
    return repr(float(bound))


@dataclass
class Counter:
    values: dict[tuple[str, ...], float] = field(default_factory=dict)

    def add(self, labels: tuple[str, ...], amount: float) -> None:
        labels = _admit(self.values, labels)
        self.values[labels] = self.values.get(labels, 0.0) + amount


class Lock:
    """A named lock, so that readers and writers visibly share one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def bucket_bounds(values: Sequence[float]) -> tuple[float, ...]:
    bounds = tuple(float(v) for v in values)
    if list(bounds) != sorted(set(bounds)):
        raise ValueError("histogram bounds must be strictly increasing")
    return bounds
