"""Rebuild a trace tree from stored spans, whatever the spans say.

Real traces are messy: parents that never arrived (orphans), a span naming itself as parent,
parent chains that loop, the same span twice. Every span appears exactly once in the result:
* a span whose parent is missing becomes an extra root, marked ``orphan``;
* spans unreachable from any root are in a cycle: the earliest of them becomes a root, marked
  ``cycle``, and the walk continues from it;
* children are ordered by start time (then span id, for a stable order).
Everything is iterative, so a 50,000-deep chain cannot exhaust the Python stack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Node = dict[str, Any]


def build_tree(spans: Sequence[Any], make_node: Callable[[Any], Node]) -> list[Node]:
    """Return root nodes, each with nested ``children``.

    ``spans`` expose ``span_id``, ``parent_span_id`` and ``start_ns`` as keys; ``make_node`` turns
    one span into its node dict (without ``children``).
    """
    by_id: dict[bytes, Any] = {}
    for span in spans:
        by_id.setdefault(span["span_id"], span)
    ordered = sorted(by_id.values(), key=lambda s: (s["start_ns"], s["span_id"]))

    children: dict[bytes, list[bytes]] = {}
    roots: list[tuple[bytes, str | None]] = []
    for span in ordered:
        parent = span["parent_span_id"]
        if parent is None:
            roots.append((span["span_id"], None))
        elif parent not in by_id:
            roots.append((span["span_id"], "orphan"))
        else:
            children.setdefault(parent, []).append(span["span_id"])

    nodes: dict[bytes, Node] = {}
    result: list[Node] = []

    def walk(root_id: bytes, mark: str | None) -> None:
        root = _new_node(by_id[root_id], make_node, mark)
        nodes[root_id] = root
        result.append(root)
        stack = [root_id]
        while stack:
            span_id = stack.pop()
            parent_node = nodes[span_id]
            for child_id in children.get(span_id, ()):
                if child_id in nodes:  # reached already: a loop back into the walked part
                    continue
                child = _new_node(by_id[child_id], make_node, None)
                nodes[child_id] = child
                parent_node["children"].append(child)
                stack.append(child_id)

    for root_id, mark in roots:
        walk(root_id, mark)
    # Whatever is left hangs off a cycle (a self-parent is a cycle of one).
    for span in ordered:
        if span["span_id"] not in nodes:
            walk(span["span_id"], "cycle")
    result.sort(key=lambda n: (n["start_time_unix_nano"], n["span_id"]))
    return result


def _new_node(span: Any, make_node: Callable[[Any], Node], mark: str | None) -> Node:
    node = make_node(span)
    node["orphan"] = mark == "orphan"
    node["cycle"] = mark == "cycle"
    node["children"] = []
    return node


def iter_nodes(roots: list[Node]) -> list[Node]:
    """All nodes of a tree in depth-first order, without recursion."""
    out: list[Node] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node["children"]))
    return out
