"""Which store failures retrying can fix, and which leave the database needing a reopen.

A write that fails for a reason of the moment (a full disk, memory, a checkpoint that failed)
is answered 503 / UNAVAILABLE: the exporter retries and a later attempt succeeds. A write that
fails because of what it holds (a value DuckDB cannot convert, a constraint) fails the same way
on every retry, so it must be answered with a code exporters do not retry, or they retry forever.
"""

from __future__ import annotations

import duckdb

from tracepond.errors import StorageRejected, StorageUnavailable, TracepondError

# DuckDB's OperationalError covers IOException (disk full), OutOfMemoryException,
# TransactionException (a COMMIT that could not write its WAL) and ConnectionException.
_TRANSIENT: tuple[type[BaseException], ...] = (
    duckdb.OperationalError,
    duckdb.FatalException,
    duckdb.InternalException,
    duckdb.InterruptException,
    OSError,
    MemoryError,
)
# After these DuckDB refuses every statement until the database is opened again.
_FATAL: tuple[type[BaseException], ...] = (duckdb.FatalException, duckdb.InternalException)
_INVALIDATED = "database has been invalidated"


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, _TRANSIENT) or is_fatal(exc)


def is_fatal(exc: BaseException) -> bool:
    """Whether the connection is unusable until reopened."""
    return isinstance(exc, _FATAL) or _INVALIDATED in str(exc)


def is_memory_error(exc: BaseException) -> bool:
    """Whether DuckDB failed for want of buffer pool (a checkpoint's own failure says so only
    in its message)."""
    text = str(exc)
    return isinstance(exc, duckdb.OutOfMemoryException) or any(
        marker in text
        for marker in ("could not allocate block", "failed to pin block", "Out of Memory")
    )


def describe(exc: BaseException) -> str:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:300]


def classify(exc: BaseException) -> TracepondError:
    """The error a receiver answers for a write that raised ``exc`` (nothing was stored)."""
    if isinstance(exc, TracepondError):
        return exc
    if is_transient(exc):
        return StorageUnavailable(f"the store cannot write now, nothing stored: {describe(exc)}")
    # Conversion, constraint, invalid input, out of range, and anything unexpected: the same
    # data would fail the same way again.
    return StorageRejected(f"the store cannot store this data, nothing stored: {describe(exc)}")
