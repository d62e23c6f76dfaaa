"""SQL literals: the one exception to "values go in as parameters", for hot statements.

DuckDB plans a statement with parameters before it knows their values and binds it again at
execution. For the lookup of one trace (a blob id and two ingest times) that cost ~1 ms of a
~4 ms trace fetch at 1M spans (p95 5.0-6.3 -> 3.5-4.1 ms with literals, same queries); every
commit's span INSERT pastes its ingest time for the same reason. Only values that cannot carry
SQL are pasted: an ``int`` and the hex digits of ``bytes``.
"""

from __future__ import annotations

from tracepond.projects import is_project_name


def int_literal(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an int, got {type(value).__name__}")
    # Parenthesized when negative: `-5::BIGINT` would cast before negating.
    # int(): a subclass of int may print itself differently.
    return str(int(value)) if value >= 0 else f"({int(value)})"


def blob_literal(value: bytes) -> str:
    if not isinstance(value, bytes):
        raise TypeError(f"expected bytes, got {type(value).__name__}")
    return f"from_hex('{value.hex()}')"


def in_trace(trace_id: bytes, window: tuple[int, int], project: str) -> str:
    """The condition selecting one trace's spans: its id, its project (another project may use
    the same trace id), and its ingest window (first, last) as constants so that DuckDB prunes
    row groups by their ingested_ns zone maps (a subquery would not)."""
    first, last = window
    return (
        f"ingested_ns BETWEEN {int_literal(first)} AND {int_literal(last)}"
        f" AND trace_id = {blob_literal(trace_id)} AND project = {project_literal(project)}"
    )


def project_literal(project: str) -> str:
    """A project name as a SQL string. Only a valid name (``tracepond.projects``: lowercase
    letters, digits, '-', '_') is pasted, so it can never carry a quote."""
    if not is_project_name(project):
        raise ValueError(f"not a project name: {project!r}")
    return f"'{project}'"
