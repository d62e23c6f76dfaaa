"""Which trace ids may already be stored: a Bloom filter that spares the writer a lookup.

Every commit needs the stored summaries of the traces it touches (to merge spans that arrive
across requests and to drop re-sent duplicates). DuckDB answers that lookup with a scan of the
whole traces table (its primary-key index is not used for a list of ids), so it costs a few
milliseconds per commit and grows with the database. Most commits carry only new traces; this
filter proves that cheaply, and the writer then skips the statement.

False positives only cost the lookup the writer would have done anyway; there are no false
negatives once the filter is loaded: it is built from every stored trace id (read in a
background thread from the first write on, so a big database delays neither start-up nor the
first commit) plus every id the writer commits. Until it is loaded, ``possibly_stored`` answers
None and the writer looks every id up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

# Bits per expected id and probes per id: a false-positive rate of ~0.06% per id at capacity,
# so that a commit of 64 new traces runs the lookup in ~4% of cases.
_BITS_PER_ID = 24
_PROBES = 6
_MIN_CAPACITY = 1 << 16
_MASK64 = (1 << 64) - 1


class _Bloom:
    """A fixed-size Bloom filter over 16-byte (or any) ids, for ``capacity`` ids."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.count = 0
        size = 1 << max(10, (capacity * _BITS_PER_ID - 1).bit_length())
        self._mask = size - 1
        self._bits = bytearray(size >> 3)

    def _positions(self, item: bytes) -> list[int]:
        # Double hashing (Kirsch-Mitzenmacher) from one 64-bit hash. Python's bytes hash is
        # keyed per process, which is fine for a filter that lives in memory only; the odd
        # step keeps the probes distinct.
        h = hash(item) & _MASK64
        step = (h >> 32) | 1
        mask = self._mask
        return [(h + i * step) & mask for i in range(_PROBES)]

    def add(self, item: bytes) -> None:
        bits = self._bits
        for p in self._positions(item):
            bits[p >> 3] |= 1 << (p & 7)
        self.count += 1

    def __contains__(self, item: bytes) -> bool:
        bits = self._bits
        return all(bits[p >> 3] & (1 << (p & 7)) for p in self._positions(item))


class KnownTraceIds:
    """Trace ids that may be stored. Thread-safe: the writer adds and asks, a loader loads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._filters = [_Bloom(_MIN_CAPACITY)]
        self._loaded = False

    @property
    def loaded(self) -> bool:
        return self._loaded

    def add(self, ids: Iterable[bytes]) -> None:
        with self._lock:
            for trace_id in ids:
                self._add(trace_id)

    def _add(self, trace_id: bytes) -> None:
        current = self._filters[-1]
        if current.count >= current.capacity:
            # A new, bigger filter instead of a rebuild (which would need every id again): the
            # false-positive rates of the filters add up, and doubling keeps them few.
            current = _Bloom(current.capacity * 2)
            self._filters.append(current)
        current.add(trace_id)

    def possibly_stored(self, ids: Iterable[bytes]) -> list[bytes] | None:
        """The ids that may be stored, or None while the stored ids are still being loaded."""
        if not self._loaded:
            return None
        with self._lock:
            filters = self._filters
            return [t for t in ids if any(t in f for f in filters)]

    def mark_loaded(self) -> None:
        """Every id stored when this object was created has been added (ids committed since
        were added by the writer): from now on, an id not in the filter is not stored."""
        self._loaded = True
