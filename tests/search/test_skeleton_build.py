"""The skeleton build (query/skeleton.py) against the straightforward dict-per-span build it
replaced (kept below as the reference): byte-identical JSON on random traces with duplicates,
orphans, loops, ties and float costs, from row dicts and from columns."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from tracepond.model.skeleton import COLUMNS, SpanColumns
from tracepond.query._render import SPAN_KINDS, STATUS_CODES
from tracepond.query.skeleton import build_skeleton

_INFERENCE = ("llm", "embedding")


def reference_build(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id: dict[bytes, dict[str, Any]] = {}
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
    seen: set[bytes] = set()
    order: list[tuple[bytes, int, str | None]] = []

    def walk(root: bytes, mark: str | None) -> None:
        stack: list[tuple[bytes, int, str | None]] = [(root, 0, mark)]
        while stack:
            span_id, depth, node_mark = stack.pop()
            if span_id in seen:
                continue
            seen.add(span_id)
            order.append((span_id, depth, node_mark))
            stack.extend((c, depth + 1, None) for c in reversed(children.get(span_id, ())))

    for root, mark in roots:
        walk(root, mark)
    for row in ordered:
        if row["span_id"] not in seen:
            walk(row["span_id"], "cycle")
    nodes = []
    for span_id, depth, mark in order:
        row = by_id[span_id]
        parent = row["parent_span_id"]
        nodes.append(
            {
                "span_id": row["span_id"].hex(),
                "parent_span_id": parent.hex() if parent is not None else None,
                "depth": depth,
                "name": row["name"],
                "kind": SPAN_KINDS[row["kind"]]
                if row["kind"] < len(SPAN_KINDS)
                else str(row["kind"]),
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
        )
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
        kids = [k for k in kids if order[k][1] == order[i][1] + 1]
        node["child_count"] = len(kids)
        has_usage = row["category"] in _INFERENCE and any(
            row[k] is not None for k in ("input_tokens", "output_tokens", "total_tokens", "cost")
        )
        below = any(usage_below[k] for k in kids)
        usage_below[i] = below or has_usage
        own = has_usage and not below
        total = (
            int(row["total_tokens"])
            if row["total_tokens"] is not None
            else int((row["input_tokens"] or 0) + (row["output_tokens"] or 0))
        )
        totals = {
            "span_count": 1,
            "error_count": 1 if row["status_code"] == 2 else 0,
            "input_tokens": (row["input_tokens"] or 0) if own else 0,
            "output_tokens": (row["output_tokens"] or 0) if own else 0,
            "total_tokens": total if own else 0,
            "cost": row["cost"] if own else None,
        }
        for k in kids:
            child = nodes[k]["subtree"]
            for key in (
                "span_count",
                "error_count",
                "input_tokens",
                "output_tokens",
                "total_tokens",
            ):
                totals[key] += child[key]
            if child["cost"] is not None:
                totals["cost"] = (totals["cost"] or 0.0) + child["cost"]
        node["subtree"] = totals
    return nodes


def random_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    ids = [rng.randrange(1, 4 * n + 2).to_bytes(8, "big") for _ in range(n)]  # some repeat
    rows = []
    for i, span_id in enumerate(ids):
        roll = rng.random()
        if roll < 0.08:
            parent = None
        elif roll < 0.14:
            parent = rng.randrange(5 * n, 6 * n).to_bytes(8, "big")  # not in the trace
        elif roll < 0.18:
            parent = span_id  # its own parent
        else:
            parent = rng.choice(ids)  # any span: trees, and loops now and then
        start = rng.randrange(0, max(2, n // 2)) * 1000  # ties on start: then by span id
        category = rng.choice(["llm", "llm", "embedding", "tool", "chain", None])
        usage = rng.random() < 0.7
        rows.append(
            {
                "span_id": span_id,
                "parent_span_id": parent,
                "name": f"span {i}",
                "kind": rng.randrange(0, 8),
                "service_name": rng.choice(["a", "b"]),
                "start_ns": start,
                "end_ns": start + rng.randrange(0, 5000),
                "status_code": rng.randrange(0, 4),
                "category": category,
                "model": rng.choice(["gpt-4o", None]),
                "input_tokens": rng.randrange(0, 500) if usage and rng.random() < 0.8 else None,
                "output_tokens": rng.randrange(0, 500) if usage and rng.random() < 0.8 else None,
                "total_tokens": rng.randrange(0, 900) if usage and rng.random() < 0.3 else None,
                "cost": rng.random() / 7 if usage and rng.random() < 0.6 else None,
            }
        )
    return rows


def columns_of(rows: list[dict[str, Any]]) -> SpanColumns:
    return SpanColumns({name: [row[name] for row in rows] for name in COLUMNS})


@pytest.mark.parametrize("seed", range(300))
def test_same_nodes_as_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    rows = random_rows(rng, rng.choice([1, 2, 3, 5, 8, 20, 60, 200]))
    expected = orjson.dumps(reference_build(rows))
    assert orjson.dumps(build_skeleton(rows)) == expected
    columns = columns_of(rows)
    assert list(columns) == rows
    assert orjson.dumps(build_skeleton(columns)) == expected


def test_a_deep_chain_and_a_wide_fan() -> None:
    rows = []
    for i in range(3000):  # a chain 3,000 deep, then 3,000 children of its root
        parent = i.to_bytes(8, "big") if i else None
        rows.append({**_span(i + 1, parent, i), "category": "llm", "cost": 0.1})
    rows += [_span(10_000 + i, (1).to_bytes(8, "big"), 5000 + i) for i in range(3000)]
    nodes = build_skeleton(rows)
    assert orjson.dumps(nodes) == orjson.dumps(reference_build(rows))
    assert nodes[0]["child_count"] == 3001 and nodes[2999]["depth"] == 2999


def test_empty() -> None:
    assert build_skeleton([]) == [] == build_skeleton(SpanColumns({c: [] for c in COLUMNS}))


def _span(number: int, parent: bytes | None, start: int) -> dict[str, Any]:
    return {
        "span_id": number.to_bytes(8, "big"),
        "parent_span_id": parent,
        "name": "s",
        "kind": 1,
        "service_name": "svc",
        "start_ns": start,
        "end_ns": start + 10,
        "status_code": 0,
        "category": None,
        "model": None,
        "input_tokens": None,
        "output_tokens": None,
        "total_tokens": None,
        "cost": None,
    }
