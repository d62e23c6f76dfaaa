"""Unit tests of ``tracepond.query.tree.build_tree``: every span appears exactly once, whatever
the parent links say."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tracepond.query.tree import build_tree, iter_nodes


def sid(n: int) -> bytes:
    return n.to_bytes(8, "big")


def rec(n: int, parent: int | None, start: int, name: str | None = None) -> dict[str, Any]:
    return {
        "span_id": sid(n),
        "parent_span_id": None if parent is None else sid(parent),
        "start_ns": start,
        "name": name or f"s{n}",
    }


def node(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "span_id": record["span_id"].hex(),
        "start_time_unix_nano": record["start_ns"],
        "name": record["name"],
    }


def shape(nodes: list[dict[str, Any]]) -> list[Any]:
    return [(n["name"], shape(n["children"])) for n in nodes]


def marks(roots: list[dict[str, Any]]) -> dict[str, tuple[bool, bool]]:
    return {n["name"]: (n["orphan"], n["cycle"]) for n in iter_nodes(roots)}


def test_empty() -> None:
    assert build_tree([], node) == []


def test_children_ordered_by_start_then_span_id() -> None:
    records = [rec(1, None, 0, "root"), rec(4, 1, 30), rec(3, 1, 10), rec(2, 1, 10), rec(5, 3, 11)]
    roots = build_tree(records, node)
    assert shape(roots) == [("root", [("s2", []), ("s3", [("s5", [])]), ("s4", [])])]
    assert all(m == (False, False) for m in marks(roots).values())


def test_orphan_becomes_extra_root_with_its_subtree() -> None:
    records = [rec(1, None, 10, "root"), rec(2, 99, 5, "orphan"), rec(3, 2, 6, "under-orphan")]
    roots = build_tree(records, node)
    assert shape(roots) == [("orphan", [("under-orphan", [])]), ("root", [])]
    assert marks(roots) == {
        "orphan": (True, False),
        "under-orphan": (False, False),
        "root": (False, False),
    }


def test_self_parent_is_a_cycle_of_one() -> None:
    roots = build_tree([rec(1, 1, 0, "me"), rec(2, 1, 1, "child")], node)
    assert shape(roots) == [("me", [("child", [])])]
    assert marks(roots) == {"me": (False, True), "child": (False, False)}


def test_two_cycle_with_a_tail_every_span_once() -> None:
    # A -> B -> A, and C under B: the earliest of the loop becomes the root.
    records = [rec(1, 2, 5, "A"), rec(2, 1, 3, "B"), rec(3, 2, 9, "C")]
    roots = build_tree(records, node)
    assert shape(roots) == [("B", [("A", []), ("C", [])])]
    assert marks(roots)["B"] == (False, True)
    assert marks(roots)["A"] == (False, False)


def test_cycle_next_to_a_normal_tree() -> None:
    records = [
        rec(1, None, 0, "root"),
        rec(2, 1, 1, "child"),
        rec(10, 12, 50, "x"),
        rec(11, 10, 40, "y"),
        rec(12, 11, 60, "z"),
    ]
    roots = build_tree(records, node)
    assert shape(roots) == [("root", [("child", [])]), ("y", [("z", [("x", [])])])]
    assert marks(roots)["y"] == (False, True)


def test_duplicates_first_copy_wins() -> None:
    records = [rec(1, None, 0, "first"), rec(1, None, 0, "second"), rec(2, 1, 1), rec(2, 1, 1)]
    roots = build_tree(records, node)
    assert shape(roots) == [("first", [("s2", [])])]


def test_several_roots_sorted_by_start() -> None:
    roots = build_tree([rec(3, None, 30), rec(1, None, 10), rec(2, 404, 20)], node)
    assert [r["name"] for r in roots] == ["s1", "s2", "s3"]
    assert [r["orphan"] for r in roots] == [False, True, False]


def test_deep_chain_without_recursion() -> None:
    depth = 50_000
    records = [rec(i, i - 1 if i else None, i) for i in range(depth)]
    random.Random(7).shuffle(records)
    roots = build_tree(records, node)
    assert len(roots) == 1
    current, levels = roots[0], 1
    while current["children"]:
        (current,) = current["children"]
        levels += 1
    assert levels == depth
    assert current["name"] == f"s{depth - 1}"


@pytest.mark.parametrize("seed", range(20))
def test_random_graphs_every_span_exactly_once(seed: int) -> None:
    """Random parent links (missing parents, self-parents, loops, duplicates): every span is in
    the result once; every non-root hangs under its own parent; roots are exactly the spans
    without a parent, with a missing parent (orphan), or chosen to break a loop (cycle)."""
    rng = random.Random(seed)
    count = rng.randint(1, 60)
    records = []
    for n in range(1, count + 1):
        parent = rng.choice([None, n, rng.randint(1, count), rng.randint(1, count), 1000 + n])
        records.append(rec(n, parent, rng.randint(0, 20)))
    records += rng.sample(records, k=rng.randint(0, 5))
    roots = build_tree(records, node)
    nodes = iter_nodes(roots)
    assert sorted(n["span_id"] for n in nodes) == sorted({r["span_id"].hex() for r in records})
    parent_of = {r["span_id"].hex(): r["parent_span_id"] for r in records}
    known = set(parent_of)
    for root in roots:
        parent = parent_of[root["span_id"]]
        if parent is None:
            assert (root["orphan"], root["cycle"]) == (False, False)
        elif parent.hex() not in known:
            assert (root["orphan"], root["cycle"]) == (True, False)
        else:
            assert (root["orphan"], root["cycle"]) == (False, True)
    for parent_node in nodes:
        for child in parent_node["children"]:
            assert parent_of[child["span_id"]].hex() == parent_node["span_id"]
            assert not child["orphan"]
            assert not child["cycle"]
        starts = [(c["start_time_unix_nano"], c["span_id"]) for c in parent_node["children"]]
        assert starts == sorted(starts)
