"""The skeleton of a trace: every span without payload, flat in depth-first order, with
per-subtree totals, so that a 50,000-span trace loads fast and a client fetches span payloads
(attributes, messages) one at a time, when opened.

Subtree tokens and cost follow the trace totals' leaf rule (conventions/_totals.py): only
LLM/embedding spans with usage and no such span below them count, so a framework span and the
provider span under it are not counted twice. Orphans and cycles are handled as in tree.py.

The build works on columns (one list per field, spans numbered by their (start, id) order)
rather than on a dict per span: at 50,000 spans the per-row dicts and lookups were most of the
cost (bench/README.md, issue 5).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from itertools import islice
from operator import itemgetter, lt, sub
from typing import Any, Final

from tracepond.model.records import SpanRecord
from tracepond.model.skeleton import COLUMNS, SpanColumns, gc_paused
from tracepond.query._render import SPAN_KINDS, STATUS_CODES

_INFERENCE: Final = ("llm", "embedding")


def build_skeleton(rows: Sequence[SpanRecord]) -> list[dict[str, Any]]:
    if isinstance(rows, SpanColumns):
        return build_skeleton_columns(rows.columns)
    return build_skeleton_columns({name: [row[name] for row in rows] for name in COLUMNS})


def build_skeleton_columns(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The nodes of the spans given as one list per column of ``COLUMNS`` (in any order)."""
    with gc_paused():
        return _build(columns)


def _build(cols: dict[str, list[Any]]) -> list[dict[str, Any]]:
    cols, position = _first_copies_sorted(cols)
    n = len(position)
    parents: list[bytes | None] = cols["parent_span_id"]
    parent_at: list[int | None] = list(map(position.get, parents))  # None: root or orphan
    children: defaultdict[int, list[int]] = defaultdict(list)
    roots: list[int] = []
    orphan = bytearray(n)
    for i, p in enumerate(parent_at):
        if p is not None:
            children[p].append(i)
        else:
            roots.append(i)
            if parents[i] is not None:
                orphan[i] = 1
    walk, depth, cycle, walk_children = _depth_first(n, roots, children, parent_at)
    totals = _subtree_totals(cols, walk, walk_children)
    child_count = [0] * n
    for i, kids in walk_children.items():
        child_count[i] = len(kids)
    nodes = _nodes(cols, parent_at, depth, orphan, cycle, child_count, totals)
    return nodes if len(walk) < 2 else list(itemgetter(*walk)(nodes))


def _first_copies_sorted(cols: dict[str, list[Any]]) -> tuple[dict[str, list[Any]], dict[Any, int]]:
    """The first copy of each span id, ordered by (start, span id); and each id's position."""
    ids, starts = cols["span_id"], cols["start_ns"]
    n = len(ids)
    position = dict(zip(ids, range(n), strict=True))
    if len(position) == n and all(map(lt, starts, islice(starts, 1, None))):
        return cols, position  # as the store sends them: by start (ties are rare)
    # The last write of an id wins: the first copy.
    first = dict(zip(reversed(ids), range(n - 1, -1, -1), strict=True))
    keep: Sequence[int] = range(n) if len(first) == n else sorted(first.values())
    order = sorted(keep, key=lambda i: (starts[i], ids[i]))
    cols = {name: [column[i] for i in order] for name, column in cols.items()}
    return cols, dict(zip(cols["span_id"], range(len(order)), strict=True))


def _depth_first(
    n: int, roots: list[int], children: dict[int, list[int]], parent_at: list[int | None]
) -> tuple[list[int], list[int], bytearray, dict[int, list[int]]]:
    """Spans in depth-first order, their depths, which start a walk because their parent chain
    loops, and the children each span has in the walk (``children`` unless a loop cut it).
    Iterative, so any depth is fine."""
    walk: list[int] = []
    depth = [0] * n
    # From the roots every span is reached once, through its only parent: nothing to check.
    for root in roots:
        stack = [root]
        while stack:
            i = stack.pop()
            walk.append(i)
            p = parent_at[i]
            if p is not None:
                depth[i] = depth[p] + 1
            kids = children.get(i)
            if kids:
                stack.extend(reversed(kids))
    cycle = bytearray(n)
    walk_children: dict[int, list[int]] = dict(children)
    if len(walk) == n:
        return walk, depth, cycle, walk_children
    # What is left hangs off a parent chain that loops: walks from each such span in order,
    # that stop at spans already walked.
    seen = bytearray(n)
    for i in walk:
        seen[i] = 1
    for start in range(n):
        if seen[start]:
            continue
        cycle[start] = 1
        seen[start] = 1
        stack = [start]
        while stack:
            i = stack.pop()
            walk.append(i)
            p = parent_at[i]
            if i != start and p is not None:
                depth[i] = depth[p] + 1
            kids = [k for k in children.get(i, ()) if not seen[k]]
            walk_children[i] = kids
            for k in kids:
                seen[k] = 1
            stack.extend(reversed(kids))
    return walk, depth, cycle, walk_children


def _subtree_totals(
    cols: dict[str, list[Any]], walk: list[int], walk_children: dict[int, list[int]]
) -> list[list[Any]]:
    """[spans, errors, input, output, total tokens, cost] of every subtree, per column.

    Children come after their parent in depth-first order, so a reverse pass sees every
    child's totals before its parent's. A span counts its own usage only with no usage below
    it; so a subtree's cost is the span's own or the sum of its children's (in child order,
    as floats add), never both."""
    category, status = cols["category"], cols["status_code"]
    inputs, outputs, totals, costs = (
        cols["input_tokens"],
        cols["output_tokens"],
        cols["total_tokens"],
        cols["cost"],
    )
    n = len(category)
    usage = [
        c in _INFERENCE and (a is not None or b is not None or t is not None or x is not None)
        for c, a, b, t, x in zip(category, inputs, outputs, totals, costs, strict=True)
    ]
    spans = [1] * n
    errors = [1 if s == 2 else 0 for s in status]
    # The own usage of every span, as if nothing below it had usage (true of every leaf).
    tokens_in = [(a or 0) if u else 0 for a, u in zip(inputs, usage, strict=True)]
    tokens_out = [(b or 0) if u else 0 for b, u in zip(outputs, usage, strict=True)]
    tokens = [
        (int(t) if t is not None else int((a or 0) + (b or 0))) if u else 0
        for a, b, t, u in zip(inputs, outputs, totals, usage, strict=True)
    ]
    cost = [x if u else None for x, u in zip(costs, usage, strict=True)]
    usage_below = usage[:]  # usage in the subtree, the span included
    inner = [i for i in walk if walk_children.get(i)]
    for i in reversed(inner):
        kids = walk_children[i]
        if any(map(usage_below.__getitem__, kids)):
            usage_below[i] = True
            tokens_in[i] = tokens_out[i] = tokens[i] = 0
            cost[i] = None
        spans[i] += sum(map(spans.__getitem__, kids))
        errors[i] += sum(map(errors.__getitem__, kids))
        tokens_in[i] += sum(map(tokens_in.__getitem__, kids))
        tokens_out[i] += sum(map(tokens_out.__getitem__, kids))
        tokens[i] += sum(map(tokens.__getitem__, kids))
        below = [c for c in map(cost.__getitem__, kids) if c is not None]
        if below:  # then the span's own cost did not count (usage below it)
            total = cost[i]
            for child in below:
                total = (total or 0.0) + child
            cost[i] = total
    return [spans, errors, tokens_in, tokens_out, tokens, cost]


def _nodes(
    cols: dict[str, list[Any]],
    parent_at: list[int | None],
    depth: list[int],
    orphan: bytearray,
    cycle: bytearray,
    child_count: list[int],
    totals: list[list[Any]],
) -> list[dict[str, Any]]:
    """The node of every span, in (start, id) order."""
    kind_names = {k: SPAN_KINDS[k] if k < len(SPAN_KINDS) else str(k) for k in set(cols["kind"])}
    status_names = {s: STATUS_CODES[s] if s < 3 else "unset" for s in set(cols["status_code"])}
    starts, ends = cols["start_ns"], cols["end_ns"]
    ids = list(map(bytes.hex, cols["span_id"]))
    columns = (
        ids,
        [  # the parent's own id string when it is in the trace
            ids[at] if at is not None else parent.hex() if parent is not None else None
            for at, parent in zip(parent_at, cols["parent_span_id"], strict=True)
        ],
        depth,
        cols["name"],
        list(map(kind_names.__getitem__, cols["kind"])),
        cols["service_name"],
        starts,
        ends,
        list(map(sub, ends, starts)),
        list(map(status_names.__getitem__, cols["status_code"])),
        cols["category"],
        cols["model"],
        list(map(bool, orphan)),
        list(map(bool, cycle)),
        child_count,
        *totals,
    )
    return [
        {
            "span_id": span_id,
            "parent_span_id": parent,
            "depth": d,
            "name": name,
            "kind": kind,
            "service_name": service,
            "start_time_unix_nano": start,
            "end_time_unix_nano": end,
            "duration_ns": duration,
            "status": status,
            "category": category,
            "model": model,
            "orphan": is_orphan,
            "cycle": is_cycle,
            "child_count": kids,
            "subtree": {
                "span_count": spans,
                "error_count": errors,
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens,
                "cost": cost,
            },
        }
        for (
            span_id,
            parent,
            d,
            name,
            kind,
            service,
            start,
            end,
            duration,
            status,
            category,
            model,
            is_orphan,
            is_cycle,
            kids,
            spans,
            errors,
            tokens_in,
            tokens_out,
            tokens,
            cost,
        ) in zip(*columns, strict=True)
    ]
