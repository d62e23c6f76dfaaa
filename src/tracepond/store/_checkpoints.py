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
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# DuckDB's row-group size (a test pins it against the installed DuckDB).
ROW_GROUP_ROWS = 122_880

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
    """Tracks the spans table's length and the WAL's size (writer thread only)."""

    def __init__(self, wal_path: Path, threshold_bytes: int, span_rows: int) -> None:
        self._wal_path = wal_path
        self._threshold = threshold_bytes
        self._rows = span_rows

    def room(self) -> int | None:
        """Spans that fit before the next row-group boundary when a checkpoint is due there;
        None when none is due."""
        if not self._wal_full():
            return None
        return ROW_GROUP_ROWS - self._rows % ROW_GROUP_ROWS

    def due_before(self, incoming: int) -> bool:
        """Whether to checkpoint before committing ``incoming`` more spans: the WAL is past the
        threshold and the table ends on a row-group boundary, or this commit would cross one."""
        filled = self._rows % ROW_GROUP_ROWS
        if filled and filled + incoming <= ROW_GROUP_ROWS:
            return False
        return self._wal_full()

    def committed(self, inserted: int) -> None:
        self._rows += inserted

    def _wal_full(self) -> bool:
        try:
            return os.path.getsize(self._wal_path) >= self._threshold
        except FileNotFoundError:  # no WAL: everything is in the file
            return False
