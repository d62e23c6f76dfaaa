"""When the writer folds DuckDB's write-ahead log into the database file.

DuckDB stores a table in row groups of ``ROW_GROUP_ROWS`` rows. A checkpoint taken while the
spans table's last row group is part-filled writes that row group out as it is; the spans
appended next start a new row group, and a later checkpoint merges the two back into full row
groups, decompressing and rewriting what was already on disk, one thread at a time. Such a
checkpoint cost about three times as much in a store probe (1,024-span commits, ~250k spans per
checkpoint: 0.55-0.6 s when every checkpoint ended on a row-group boundary, 1.5-1.9 s when the
previous one had ended a few rows into a row group).

So the store checkpoints by itself, from the writer thread, once the WAL has grown past the
threshold: at the first row-group boundary after that (``room`` tells the writer how many spans
still fit before it, so that a commit group can stop exactly there), or just before a commit
that would cross one. A checkpoint that did land mid-row-group (the writer's idle checkpoint,
a clean stop) is mended by the next one at a boundary, which merges the row groups back into
full ones. DuckDB's own automatic checkpoint, which fires inside whatever commit crosses its
threshold, stays at twice the threshold as a backstop.

Memory decides too. DuckDB spills most committed data to ``<db>.tmp`` when its buffer pool is
full, but string values of about 30 kB and more stay pinned in memory from their commit until
the next checkpoint (a probe, DuckDB 2.0.1: 28 kB attribute JSON spilled, 30 kB did not), and a
commit or checkpoint that cannot pin a block fails; a failed checkpoint invalidates the
database. So the policy also counts the bytes of large values committed since the last
checkpoint, and checkpoints before a commit that would not fit beside them. Measured there:
committing one N-byte span, or replaying it from the WAL at start-up, needs a buffer pool of
about 2N + 3 MB (the value is copied once on its way in); checkpointing it, about N + 3 MB;
several large spans add up. ``memory_limit_bytes`` sizes the pool for the largest span.

A checkpoint also merges small row groups (DuckDB's vacuum): at the end of a table, a row
group is merged with the ones appended after it while they hold fewer than 2,048 rows or
reach twice its rows, elsewhere whenever fewer row groups would hold the same rows. A merge
copies every value of the row groups it merges, and large values are pinned while it does:
during a run of large requests, each checkpoint after one of them rewrote the large values of
all those before it (the table's tail grows by doubling), so its memory grew with the
requests in a row. The checkpoints taken *because of* pinned values (right after a commit of
them, or before a commit they would not fit beside) therefore run without the vacuum
(``vacuum_for``): each leaves the rows it folds in a row group of its own, and nothing is
rewritten. The next checkpoint with the vacuum (the idle one, the row-group boundary one)
merges those row groups once, under the rewrite floor (``checkpoint_memory_bytes``): DuckDB
checkpoints only a database with changes, so that is the first checkpoint after the next
write. The vacuum cannot stay off for good: the idle checkpoints of a quiet server would leave
a small row group each (1,000 row groups of 200 rows made scans 3 to 30 times slower than two
of 100,000 in a probe).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tracepond.conventions import batch_from_table

# DuckDB's row-group size (a test pins it against the installed DuckDB).
ROW_GROUP_ROWS = 122_880
# String values this long or longer are counted as pinned until the next checkpoint (about half
# the length measured to pin, for a margin).
PINNED_VALUE_BYTES = 16 * 1024
# Buffer pool kept free of large values for everything else (queries, the WAL, indexes).
HEADROOM_BYTES = 16 * 1024**2
# How many times their bytes the large values pinned since the last checkpoint need in the
# buffer pool when it runs (measured: checkpoint_memory_bytes).
CHECKPOINT_MEMORY_FACTOR = 5
# A checkpoint that merges row groups (DuckDB's vacuum) rewrites the large values in them, and
# needs memory for them however many there are on disk: one times the pool failed at the eighth
# 30 MB request of ~60 kB values in a row, and at merging 65 row groups of them (1 GB) left by
# checkpoints without the vacuum; twice passed both, and a merge of 2 GB of them. A failed
# checkpoint invalidates the database. Any checkpoint with the vacuum gets at least this many
# times the buffer pool (measured: test_large_values.py).
REWRITE_MEMORY_FACTOR = 2
# Once the large values pinned since the last checkpoint pass this many bytes, the writer
# checkpoints right after the commit that pinned them; one request holding more is committed in
# parts of at most this much, each checkpointed before the next. A checkpoint needs several times
# their bytes (and more when it merges the row groups they were committed in with those already on
# disk), so letting them pile up to the buffer pool's size made each checkpoint cost a multiple
# of the pool. Right after the commit is also the cheapest moment: the request that sent them
# still holds its share of the ingest memory budget, so no other large body is in memory then.
# Spans without such values never pin anything: ordinary ingest never checkpoints for this.
CHECKPOINT_PINNED_BYTES = 16 * 1024**2
# The buffer pool a checkpoint or a WAL replay may be given at most, in multiples of the
# configured one; past it the store stays unable to write and says so (docs/operate.md).
MAX_MEMORY_FACTOR = 16


def replay_memory_bytes(configured: int, wal_size: int) -> int:
    """The buffer pool to replay a WAL of ``wal_size`` bytes and checkpoint it: its large values
    (at most its size) are pinned again, and the checkpoint needs them all at once."""
    return max(configured, CHECKPOINT_MEMORY_FACTOR * wal_size + HEADROOM_BYTES)


def next_recovery_memory(current: int, configured: int) -> int | None:
    """The larger buffer pool to try after a replay or checkpoint failed for memory at
    ``current``; None past the ceiling (``MAX_MEMORY_FACTOR`` times the configured pool)."""
    ceiling = MAX_MEMORY_FACTOR * configured
    return None if current >= ceiling else min(2 * current, ceiling)


def wal_bytes(wal_path: Path) -> int:
    try:
        return os.path.getsize(wal_path)
    except FileNotFoundError:  # no WAL: everything is in the file
        return 0


def memory_limit_bytes(configured: int, max_row_bytes: int) -> int:
    """The buffer pool to give DuckDB: the configured size, raised when spans of
    ``max_row_bytes`` (their string values together) need more to commit and to replay."""
    return max(configured, 2 * max_row_bytes + HEADROOM_BYTES)


# The span columns whose values can reach PINNED_VALUE_BYTES: the sent JSON texts and the status
# message. Names, ids and view columns are bounded far below it by the decoder (a name limit
# set above it only makes the estimate low, and a checkpoint short of memory is recovered).
# Measuring only these keeps the count off most of the writer's columns: 21 string columns of a
# 20k-span group took ~1.9 ms a commit on the writer thread, ingest's one serial stage.
LARGE_VALUE_COLUMNS = (
    "attributes_json",
    "events_json",
    "links_json",
    "truncated_json",
    "view_json",
    "status_message",
)


def _large_lengths(table: pa.Table) -> Iterator[pa.ChunkedArray]:
    """Per column that can hold them, each row's bytes of large string values (0 for short or
    null ones)."""
    names = set(table.column_names)
    for name in LARGE_VALUE_COLUMNS:
        if name in names:
            lengths = pc.binary_length(table[name])
            large = pc.if_else(pc.greater_equal(lengths, PINNED_VALUE_BYTES), lengths, 0)
            yield pc.fill_null(large, 0)


def pinned_bytes(table: pa.Table) -> int:
    """Bytes of the table's string values that DuckDB keeps in memory until a checkpoint."""
    return int(sum(pc.sum(large).as_py() or 0 for large in _large_lengths(table)))


def pinned_bytes_per_row(table: pa.Table) -> pa.ChunkedArray | None:
    """Each row's bytes of large string values; None when the table has no such column."""
    total = None
    for large in _large_lengths(table):
        total = large if total is None else pc.add(total, large)
    return total


def slices_by_pinned(table: pa.Table, limit: int) -> list[tuple[int, int, int]]:
    """``(offset, length, pinned)`` of consecutive row ranges of ``table`` each holding at most
    ``limit`` bytes of large values (or one row, when a single row holds more)."""
    per_row = pinned_bytes_per_row(table)
    if per_row is None:
        return [(0, table.num_rows, 0)]
    slices: list[tuple[int, int, int]] = []
    start = pinned = 0
    for row, size in enumerate(per_row.to_pylist()):
        if row > start and pinned + size > limit:
            slices.append((start, row - start, pinned))
            start, pinned = row, 0
        pinned += size
    slices.append((start, table.num_rows - start, pinned))
    return slices


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b|bytes)?\s*$", re.IGNORECASE)
_UNITS = {
    "b": 1,
    "bytes": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def parse_size(text: str) -> int:
    """Bytes in a DuckDB size setting: ``256MB`` (powers of 1000), ``256MiB`` (powers of 1024),
    ``1000 bytes``. Raises ValueError for anything else."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (examples: 256MB, 1GiB)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "b").lower()])


class CheckpointPolicy:
    """Tracks the spans table's length, the WAL's size and the large values pinned in memory
    (writer thread only)."""

    def __init__(
        self, wal_path: Path, threshold_bytes: int, span_rows: int, memory_bytes: int
    ) -> None:
        self._wal_path = wal_path
        self._threshold = threshold_bytes
        self._rows = span_rows
        self._memory = memory_bytes
        # A WAL replayed at open may hold large values: its size bounds theirs.
        self._pinned = self.wal_bytes()

    def room(self) -> int | None:
        """Spans that fit before the next row-group boundary when a checkpoint is due there;
        None when none is due."""
        if not self._wal_full():
            return None
        return ROW_GROUP_ROWS - self._rows % ROW_GROUP_ROWS

    def due_before(self, incoming: int, incoming_pinned: int = 0) -> bool:
        """Whether to checkpoint before committing ``incoming`` more spans holding
        ``incoming_pinned`` bytes of large values: they would not fit in memory beside those
        pinned already; or the WAL is past the threshold and the table ends on a row-group
        boundary, or this commit would cross one."""
        if self.full_of_pinned(incoming_pinned):
            return True
        filled = self._rows % ROW_GROUP_ROWS
        if filled and filled + incoming <= ROW_GROUP_ROWS:
            return False
        return self._wal_full()

    def full_of_pinned(self, incoming_pinned: int) -> bool:
        """Whether ``incoming_pinned`` more bytes of large values would not fit in memory beside
        those pinned since the last checkpoint."""
        return bool(self._pinned) and (
            self._pinned + 2 * incoming_pinned + HEADROOM_BYTES > self._memory
        )

    def parts(self, batches: Sequence[Any]) -> Iterator[tuple[list[Any], int, bool]]:
        """The batches of one commit group in parts that each fit in memory (with the bytes of
        large values each pins): one part, unless their large values together would need more
        than the buffer pool; then as many parts as it takes, each batch whole in one. A batch
        holding more than CHECKPOINT_PINNED_BYTES of them is split by rows into parts of at most
        that much, so that the checkpoint after each (``due_after``) holds only one part's; the
        flag says which parts are such slices."""
        tables = [batch.table for batch in batches]
        total = pinned_bytes(tables[0] if len(tables) == 1 else pa.concat_tables(tables))
        if total <= CHECKPOINT_PINNED_BYTES or (
            len(batches) > 1 and self.commit_memory_bytes(total) <= self._memory
        ):
            yield list(batches), total, False
            return
        part: list[Any] = []
        part_pinned = 0
        for batch, table in zip(batches, tables, strict=True):
            pinned = pinned_bytes(table)
            if pinned > CHECKPOINT_PINNED_BYTES:
                if part:
                    yield part, part_pinned, False
                    part, part_pinned = [], 0
                for offset, length, sliced in slices_by_pinned(table, CHECKPOINT_PINNED_BYTES):
                    rows = batch.table.slice(offset, length)
                    yield [batch_from_table(rows, batch.origins, batch.project)], sliced, True
                continue
            if part and self.commit_memory_bytes(part_pinned + pinned) > self._memory:
                yield part, part_pinned, False
                part, part_pinned = [], 0
            part.append(batch)
            part_pinned += pinned
        if part:
            yield part, part_pinned, False

    @staticmethod
    def commit_memory_bytes(incoming_pinned: int) -> int:
        """The buffer pool a commit of ``incoming_pinned`` bytes of large values needs right
        after a checkpoint (each value is copied once on its way in)."""
        return 2 * incoming_pinned + HEADROOM_BYTES

    def checkpoint_memory_bytes(self, incoming_pinned: int, vacuum: bool = True) -> int:
        """The buffer pool the next checkpoint needs for the large values pinned since the
        last one (and ``incoming_pinned`` more, committed before it). One large span measured
        about N + 3 MB, but many ~60 kB values need far more (a WAL of 30 MB of them failed at
        120 MB and passed at 160 MB), hence the factor. With the ``vacuum``, at least
        REWRITE_MEMORY_FACTOR times the pool: it may merge row groups of large values, those
        pinned now or any already on disk (a run of them left by checkpoints without it, a
        table tail of them reaching twice its rows), and which ones the store does not know.
        The limit is a ceiling: a checkpoint that merges nothing large takes no more."""
        pinned = self._pinned + incoming_pinned
        needed = CHECKPOINT_MEMORY_FACTOR * pinned + HEADROOM_BYTES
        return max(needed, REWRITE_MEMORY_FACTOR * self._memory) if vacuum else needed

    def vacuum_for(self, incoming_pinned: int = 0) -> bool:
        """Whether a checkpoint taken in the write path, before committing ``incoming_pinned``
        more bytes of large values, may merge row groups: not when pinned values are why it
        is taken (the module's docstring)."""
        return not self.full_of_pinned(incoming_pinned)

    def due_after(self) -> bool:
        """Whether to checkpoint now, right after a commit (CHECKPOINT_PINNED_BYTES)."""
        return self._pinned >= CHECKPOINT_PINNED_BYTES

    def committed(self, inserted: int, pinned: int = 0) -> None:
        self._rows += inserted
        self._pinned += pinned

    def checkpointed(self) -> None:
        self._pinned = 0

    def wal_bytes(self) -> int:
        return wal_bytes(self._wal_path)

    def _wal_full(self) -> bool:
        return self.wal_bytes() >= self._threshold
