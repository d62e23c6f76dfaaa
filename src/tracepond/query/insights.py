"""Sessions, skeletons and OTLP export: the read paths beyond search (shaped for the API)."""

from __future__ import annotations

from typing import Any, Final

from tracepond.errors import InvalidRequest, NotFound
from tracepond.model.records import PageToken
from tracepond.projects import DEFAULT_PROJECT
from tracepond.query import _render
from tracepond.query.conversation import first_input_last_output
from tracepond.query.otlp_export import export_request
from tracepond.query.skeleton import build_skeleton
from tracepond.store.contract import SpanReader

MAX_SESSION_TRACES: Final = 500
MAX_SKELETON_PAGE: Final = 100_000


def sessions(
    store: SpanReader,
    limit: int,
    cursor: str | None,
    since_ns: int | None,
    user_id: str | None,
    project: str = DEFAULT_PROJECT,
) -> dict[str, Any]:
    if not 1 <= limit <= 1000:
        raise InvalidRequest(f"limit must be between 1 and 1000, got {limit}")
    after = PageToken(cursor) if cursor else None
    page = store.sessions(limit, after, since_ns, user_id, project)
    return {"sessions": [_render.session(row) for row in page.rows], "next_cursor": page.next_after}


def session(store: SpanReader, session_id: str, project: str = DEFAULT_PROJECT) -> dict[str, Any]:
    summaries = store.session_traces(session_id, MAX_SESSION_TRACES, project)
    if not summaries:
        raise NotFound(f"session {session_id!r} not found")
    # One read for every trace of the session; a trace deleted meanwhile is left out.
    turns = []
    for summary, spans in store.traces([s.trace_id for s in summaries], project=project):
        first_input, last_output = first_input_last_output(spans)
        turns.append(
            {**_render.trace_summary(summary), "input": first_input, "output": last_output}
        )
    return {
        "session_id": session_id,
        "traces": turns,
        "truncated": len(summaries) == MAX_SESSION_TRACES,
    }


def skeleton(
    store: SpanReader,
    trace_hex: str,
    parent: str | None,
    max_depth: int | None,
    limit: int,
    cursor: str | None,
    project: str = DEFAULT_PROJECT,
) -> dict[str, Any]:
    trace_id = _render.parse_hex_id(trace_hex, 16, "trace_id")
    if not 1 <= limit <= MAX_SKELETON_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_SKELETON_PAGE}, got {limit}")
    offset, as_of = _skeleton_cursor(cursor)
    if as_of is None:  # the first page fixes the snapshot that later pages read
        as_of = store.trace_watermark(trace_id, project)
    rows = store.skeleton_rows(trace_id, as_of, project)
    summary = store.trace_summary(trace_id, project)
    if not rows or summary is None or as_of is None:
        raise NotFound(f"trace {trace_hex} not found")
    nodes = build_skeleton(rows)
    if parent is not None:
        parent_hex = "" if parent == "root" else _render.parse_hex_id(parent, 8, "parent").hex()
        if parent_hex and not any(n["span_id"] == parent_hex for n in nodes):
            raise NotFound(f"span {parent} of trace {trace_hex} not found")
        # One level: the direct children of ``parent`` (the roots for "root").
        nodes = [n for n in nodes if _is_child(n, parent_hex)]
    if max_depth is not None:
        nodes = [n for n in nodes if n["depth"] <= max_depth]
    page = nodes[offset : offset + limit]
    more = offset + limit < len(nodes)
    return {
        "trace_id": trace_id.hex(),
        "summary": _render.trace_summary(summary),
        "total": len(nodes),
        "nodes": page,
        "next_cursor": f"{offset + limit}.{as_of}" if more else None,
    }


def _is_child(node: dict[str, Any], parent_hex: str) -> bool:
    if not parent_hex:
        return bool(node["depth"] == 0)
    return bool(node["parent_span_id"] == parent_hex and node["depth"] > 0)


def _skeleton_cursor(cursor: str | None) -> tuple[int, int | None]:
    """(offset, snapshot) of a skeleton cursor: ``"<offset>.<snapshot>"``."""
    if cursor is None:
        return 0, None
    offset, _, as_of = cursor.partition(".")
    # int("²") fails; so does int() of more than 4300 digits.
    if not all(part.isascii() and part.isdigit() and len(part) < 20 for part in (offset, as_of)):
        raise InvalidRequest(f"invalid cursor {cursor!r}: pass next_cursor unchanged")
    return int(offset), int(as_of)


def trace_otlp(store: SpanReader, trace_hex: str, project: str = DEFAULT_PROJECT) -> dict[str, Any]:
    trace_id = _render.parse_hex_id(trace_hex, 16, "trace_id")
    records = store.trace_spans(trace_id, project)
    if not records:
        raise NotFound(f"trace {trace_hex} not found")
    return export_request(records)
