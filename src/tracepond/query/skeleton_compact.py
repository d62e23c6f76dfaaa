"""The compact skeleton: a skeleton page (query/insights.py) as columns, for the web view.

The skeleton of a 20,000-span trace is 9 MB of JSON objects, each repeating its keys, its
parent's id, its service and its 19-digit timestamps; parsing that is most of the time a
browser takes to show the first rows. The compact form carries the same nodes in about a
fifth of the bytes:

* one array per field (``columns``), all of ``len(nodes)`` entries, in depth-first order;
* no ``parent_span_id``: in depth-first order a node's parent is the last node before it one
  level up (``depth - 1``); a root (depth 0) has none, or a missing one when ``orphan``;
* times as nanoseconds after ``origin_ns`` (the trace's start), which a JavaScript number holds
  exactly (a 19-digit unix timestamp it does not);
* repeated strings (kind, service, status, category, model) as indexes into ``strings``;
* ``flags``: 1 orphan, 2 cycle; the subtree totals as the ``span_count``, ``error_count``,
  ``total_tokens`` and ``cost`` columns (the split into input and output tokens is left out).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Final

# The columns, in the order they are sent.
COLUMNS: Final = (
    "span_id",
    "depth",
    "name",
    "start",
    "duration",
    "status",
    "kind",
    "service",
    "category",
    "model",
    "flags",
    "child_count",
    "span_count",
    "error_count",
    "total_tokens",
    "cost",
)
_SUBTREE: Final = ("span_count", "error_count", "total_tokens", "cost")


def compact_skeleton(skeleton: dict[str, Any]) -> dict[str, Any]:
    """``skeleton`` (the shape of ``/api/traces/{id}/skeleton``) with its nodes as columns."""
    nodes: list[dict[str, Any]] = skeleton["nodes"]
    summary = skeleton["summary"]
    origin = int(summary["start_time_unix_nano"])
    codes: dict[str | None, int | None] = {None: None}

    def column(field: str) -> list[Any]:
        return list(map(itemgetter(field), nodes))

    def coded(field: str) -> list[int | None]:
        values = column(field)
        for value in set(values).difference(codes):
            codes[value] = len(codes) - 1
        return list(map(codes.__getitem__, values))

    subtrees = column("subtree")
    orphan, cycle = column("orphan"), column("cycle")
    columns: dict[str, list[Any]] = {
        "span_id": column("span_id"),
        "depth": column("depth"),
        "name": column("name"),
        "start": [start - origin for start in column("start_time_unix_nano")],
        "duration": column("duration_ns"),
        "status": coded("status"),
        "kind": coded("kind"),
        "service": coded("service_name"),
        "category": coded("category"),
        "model": coded("model"),
        "flags": [1 if o else 2 if c else 0 for o, c in zip(orphan, cycle, strict=True)],
        "child_count": column("child_count"),
        **{key: list(map(itemgetter(key), subtrees)) for key in _SUBTREE},
    }
    return {
        "trace_id": skeleton["trace_id"],
        "summary": summary,
        "total": skeleton["total"],
        "next_cursor": skeleton["next_cursor"],
        "origin_ns": origin,
        "strings": [value for value in codes if value is not None],
        "columns": columns,
    }
