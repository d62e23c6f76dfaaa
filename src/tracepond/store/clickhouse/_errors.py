"""ClickHouse failures as the store contract's errors (store/base.py): no driver or engine
exception leaves the store."""

from __future__ import annotations

from clickhouse_connect.driver.exceptions import (
    ClickHouseError,
    DatabaseError,
    OperationalError,
)

from tracepond.deadline import Deadline
from tracepond.errors import (
    QueryCancelled,
    QueryMemoryLimit,
    QueryTimeout,
    QueryTooComplex,
    StorageRejected,
    StorageUnavailable,
    StoreReadError,
    TracepondError,
)

TIMEOUT_EXCEEDED = 159
QUERY_WAS_CANCELLED = 394
MEMORY_LIMIT_EXCEEDED = 241
# A recursive CTE (a descendant walk) deeper than max_recursive_cte_evaluation_depth.
TOO_DEEP_RECURSION = 306
# What the data of a write itself causes: retrying the same data fails the same way.
_DATA_ERRORS = frozenset(
    {
        6,  # CANNOT_PARSE_TEXT
        27,  # CANNOT_PARSE_INPUT_ASSERTION_FAILED
        53,  # TYPE_MISMATCH
        70,  # CANNOT_CONVERT_TYPE
        117,  # INCORRECT_DATA
        131,  # TOO_LARGE_STRING_SIZE
        349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
        321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    }
)


def code_of(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    return int(code) if isinstance(code, int) else None


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    first_line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first_line}"[:300]


def write_error(exc: BaseException) -> TracepondError:
    """The error a receiver answers for a write that raised ``exc``."""
    if isinstance(exc, TracepondError):
        return exc
    if isinstance(exc, DatabaseError) and code_of(exc) in _DATA_ERRORS:
        return StorageRejected(f"the store cannot store this data: {describe(exc)}")
    return StorageUnavailable(f"the store cannot write now: {describe(exc)}")


def read_error(exc: BaseException, deadline: Deadline | None) -> TracepondError:
    """The error a read that raised ``exc`` raises."""
    if isinstance(exc, TracepondError):
        return exc
    code = code_of(exc)
    if code == QUERY_WAS_CANCELLED or (deadline is not None and deadline.stopped):
        return deadline.error() if deadline is not None else QueryCancelled("the read was stopped")
    if code == TIMEOUT_EXCEEDED:
        return QueryTimeout("the query ran past the store's time limit and was stopped")
    if code == TOO_DEEP_RECURSION:
        return QueryTooComplex(
            "a descendant walk (>>) went deeper than this store follows a trace's tree;"
            " use child (>) selectors or narrow the query",
            position=0,
            expected="a shallower descendant walk",
        )
    if code == MEMORY_LIMIT_EXCEEDED:
        return QueryMemoryLimit(
            "the query needs more memory than the server allows a query; narrow it"
            " (a time range, fewer selectors) and try again"
        )
    if isinstance(exc, OperationalError):
        return StorageUnavailable(f"the store cannot be reached: {describe(exc)}")
    return StoreReadError(f"the store could not run this read: {describe(exc)}")


ENGINE_ERRORS: tuple[type[BaseException], ...] = (ClickHouseError, OSError)
