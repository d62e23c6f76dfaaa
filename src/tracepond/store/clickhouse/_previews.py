"""What a listed trace was about: its root span's input and output (first line, bounded) and its
tags, for one page of trace search results (the DuckDB store's ``store/_search_previews.py``;
the same rules, applied here in Python to the page's root spans).

Only the page's root spans are read, and of them only the view and the raw attributes the view
may refer to for these fields (``JSONExtractRaw`` by key), so a root's other attributes never
leave ClickHouse.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

import orjson

from tracepond.conventions._tables import REFERABLE_SOURCES
from tracepond.model.records import TraceSummary
from tracepond.store._search_previews import PREVIEW_CHARS, first_line
from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._sql import run, start_range

_SQL_CHARS: Final = 4 * PREVIEW_CHARS
_FIELDS: Final = ("input", "output", "input_messages", "output_messages")
_KEYS: Final = tuple(sorted({key for f in _FIELDS for key in REFERABLE_SOURCES[f]}))
_MISSING: Final = object()


def with_previews(
    client: Any, db: str, summaries: list[TraceSummary], project: str
) -> list[TraceSummary]:
    roots = {s.trace_id: s for s in summaries if s.root_span_id is not None}
    if not roots:
        return summaries
    p = Params()
    low = min(s.start_ns for s in roots.values())
    high = max(s.end_ns for s in roots.values())
    raw = ", ".join(f"JSONExtractRaw(attributes_json, {p.add(key)})" for key in _KEYS)
    sql = (
        f"SELECT trace_id, span_id, view_json, [{raw}] FROM {db}.spans"
        f" WHERE project = {p.add(project)} AND {start_range('', p.add(low), p.add(high))}"
        f" AND trace_id IN {p.add(list(roots))}"
        f" AND span_id IN {p.add([s.root_span_id for s in roots.values()])}"
        " ORDER BY version DESC LIMIT 1 BY trace_id, span_id"
    )
    found = {}
    for trace_id, span_id, view_json, raws in run(client, sql, p)[1]:
        if roots[trace_id].root_span_id == span_id:
            found[trace_id] = _preview(view_json, dict(zip(_KEYS, raws, strict=True)))
    return [_filled(s, found.get(s.trace_id)) for s in summaries]


def _filled(summary: TraceSummary, found: tuple[Any, Any, Any] | None) -> TraceSummary:
    if found is None:
        return summary
    text_in, text_out, tags = found
    return replace(summary, input_preview=text_in, output_preview=text_out, tags=tags)


def _preview(view_json: str | None, raw: dict[str, str]) -> tuple[Any, Any, Any]:
    view = _loads(view_json) if view_json else None
    view = view if isinstance(view, dict) else {}
    refs = view.get("$refs")
    refs = refs if isinstance(refs, dict) else {}

    def referenced(field: str) -> str | None:
        """The raw attribute text the view's reference for ``field`` names."""
        key = refs.get(field)
        if not isinstance(key, str) or key not in REFERABLE_SOURCES[field]:
            return None
        return _attribute_text(raw.get(key) or "")

    plain_in = _coalesce(_as_text(view.get("input", _MISSING)), _jsonish(referenced("input")))
    plain_out = _coalesce(_as_text(view.get("output", _MISSING)), _jsonish(referenced("output")))
    asked_from = _messages(view.get("input_messages", _MISSING), referenced("input_messages"))
    answered_from = _messages(view.get("output_messages", _MISSING), referenced("output_messages"))
    users = [m for m in asked_from if isinstance(m, dict) and m.get("role") == "user"]
    asked = users[-1] if users else (asked_from[-1] if asked_from else None)
    answered = answered_from[-1] if answered_from else None
    text_in = _coalesce(plain_in, _message_text(asked))
    text_out = _coalesce(plain_out, _message_text(answered))
    tags = view.get("tags")
    tag_texts = (
        tuple(t for t in (_as_text(tag) for tag in tags) if t is not None)
        if isinstance(tags, list)
        else ()
    )
    return (
        first_line(None if text_in is None else text_in[:_SQL_CHARS]),
        first_line(None if text_out is None else text_out[:_SQL_CHARS]),
        tag_texts,
    )


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return _MISSING


def _as_text(value: Any) -> str | None:
    """A JSON value as text: a string as itself, null (or nothing) as None, others as JSON."""
    if value is _MISSING or value is None:
        return None
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _attribute_text(raw: str) -> str | None:
    """An attribute's raw JSON (JSONExtractRaw; '' when absent) as text."""
    if not raw:
        return None
    return _as_text(_loads(raw))


def _jsonish(text: str | None) -> str | None:
    """Attribute text that may itself hold JSON: decoded when it does."""
    if text is None:
        return None
    value = _loads(text)
    return text if value is _MISSING else _as_text(value)


def _messages(own: Any, raw: str | None) -> list[Any]:
    value = own if own is not _MISSING and own is not None else None
    if value is None and raw is not None:
        parsed = _loads(raw)
        value = None if parsed is _MISSING else parsed
    return value if isinstance(value, list) else []


def _message_text(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    content = _as_text(message.get("content", _MISSING))
    if content is not None:
        return content
    parts = message.get("parts")
    if not isinstance(parts, list):
        return None
    texts = [
        t
        for t in (_as_text(p.get("content", _MISSING)) for p in parts if isinstance(p, dict))
        if t is not None
    ]
    return "\n".join(texts) or None


def _coalesce(*values: str | None) -> str | None:
    return next((v for v in values if v is not None), None)
