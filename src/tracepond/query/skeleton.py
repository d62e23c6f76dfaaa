"""The skeleton of a trace: every span without payload, flat in depth-first order, with
per-subtree totals, so that a 50,000-span trace loads fast and a client fetches span payloads
(attributes, messages) one at a time, when opened.

Subtree tokens and cost follow the trace totals' leaf rule (conventions/_totals.py): only
LLM/embedding spans with usage and no such span below them count, so a framework span and the
provider span under it are not counted twice. Orphans and cycles are handled as in tree.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracepond.query._render import SPAN_KINDS, STATUS_CODES
from tracepond.store.base import SpanRecord

_INFERENCE = ("llm", "embedding")


def build_skeleton(rows: Sequence[SpanRecord]) -> list[dict[str, Any]]:
    by_id: dict[bytes, SpanRecord] = {}
    for row in rows:
        by_id.setdefault(row["span_id"], row)
    ordered = sorted(by_id.values(), key=lambda r: (r["start_ns"], r["span_id"]))
    children: dict[bytes, list[bytes]] = {}
    roots: list[tuple[bytes, str | None]] = []
    for row in ordered:
        parent = row["parent_span_id"]
        if parent is None:
            roots.append((row["span_id"], None))
        elif parent not in by_id:
            roots.append((row["span_id"], "orphan"))
        else:
            children.setdefault(parent, []).append(row["span_id"])
    order = _depth_first(ordered, roots, children)
    nodes = [_node(by_id[span_id], depth, mark) for span_id, depth, mark in order]
    _subtree_totals(nodes, order, children)
    return nodes


def _depth_first(
    ordered: list[SpanRecord],
    roots: list[tuple[bytes, str | None]],
    children: dict[bytes, list[bytes]],
) -> list[tuple[bytes, int, str | None]]:
    """(span id, depth, mark) in depth-first order; iterative, so any depth is fine."""
    seen: set[bytes] = set()
    out: list[tuple[bytes, int, str | None]] = []

    def walk(root: bytes, mark: str | None) -> None:
        stack: list[tuple[bytes, int, str | None]] = [(root, 0, mark)]
        while stack:
            span_id, depth, node_mark = stack.pop()
            if span_id in seen:
                continue
            seen.add(span_id)
            out.append((span_id, depth, node_mark))
            stack.extend((c, depth + 1, None) for c in reversed(children.get(span_id, ())))

    for root, mark in roots:
        walk(root, mark)
    for row in ordered:  # what is left hangs off a parent chain that loops
        if row["span_id"] not in seen:
            walk(row["span_id"], "cycle")
    return out


def _node(row: SpanRecord, depth: int, mark: str | None) -> dict[str, Any]:
    parent = row["parent_span_id"]
    return {
        "span_id": row["span_id"].hex(),
        "parent_span_id": parent.hex() if parent is not None else None,
        "depth": depth,
        "name": row["name"],
        "kind": SPAN_KINDS[row["kind"]] if row["kind"] < len(SPAN_KINDS) else str(row["kind"]),
        "service_name": row["service_name"],
        "start_time_unix_nano": row["start_ns"],
        "end_time_unix_nano": row["end_ns"],
        "duration_ns": row["end_ns"] - row["start_ns"],
        "status": STATUS_CODES[row["status_code"]] if row["status_code"] < 3 else "unset",
        "category": row["category"],
        "model": row["model"],
        "orphan": mark == "orphan",
        "cycle": mark == "cycle",
        "child_count": 0,
        "subtree": {},
        "_own": row,
    }


def _subtree_totals(
    nodes: list[dict[str, Any]],
    order: list[tuple[bytes, int, str | None]],
    children: dict[bytes, list[bytes]],
) -> None:
    """Children come after their parent in depth-first order, so a reverse pass sees every
    child's totals before its parent's."""
    index = {span_id: i for i, (span_id, _, _) in enumerate(order)}
    usage_below = [False] * len(nodes)
    for i in range(len(nodes) - 1, -1, -1):
        node = nodes[i]
        row = node.pop("_own")
        kids = [
            index[c]
            for c in children.get(order[i][0], ())
            if index[c] > i and not nodes[index[c]]["cycle"]
        ]
        # A child reached first from elsewhere (a loop) is not this node's child in the walk.
        kids = [k for k in kids if order[k][1] == order[i][1] + 1]
        node["child_count"] = len(kids)
        has_usage = row["category"] in _INFERENCE and _has_usage(row)
        below = any(usage_below[k] for k in kids)
        usage_below[i] = below or has_usage
        own_counts = has_usage and not below
        totals = {
            "span_count": 1,
            "error_count": 1 if row["status_code"] == 2 else 0,
            "input_tokens": (row["input_tokens"] or 0) if own_counts else 0,
            "output_tokens": (row["output_tokens"] or 0) if own_counts else 0,
            "total_tokens": _total(row) if own_counts else 0,
            "cost": row["cost"] if own_counts else None,
        }
        for k in kids:
            _add(totals, nodes[k]["subtree"])
        node["subtree"] = totals


def _has_usage(row: SpanRecord) -> bool:
    return any(
        row[k] is not None for k in ("input_tokens", "output_tokens", "total_tokens", "cost")
    )


def _total(row: SpanRecord) -> int:
    if row["total_tokens"] is not None:
        return int(row["total_tokens"])
    return int((row["input_tokens"] or 0) + (row["output_tokens"] or 0))


def _add(totals: dict[str, Any], child: dict[str, Any]) -> None:
    for key in ("span_count", "error_count", "input_tokens", "output_tokens", "total_tokens"):
        totals[key] += child[key]
    if child["cost"] is not None:
        totals["cost"] = (totals["cost"] or 0.0) + child["cost"]
