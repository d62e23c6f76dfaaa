"""What a listed trace was about: its root span's input and output (first line, bounded) and
tags, for one page of trace search results.

Only the page's root spans are read (one scan of the page's ingest window, so DuckDB prunes
row groups by their zone maps), and the texts are picked out inside DuckDB: Python receives at
most ``_SQL_CHARS`` characters per value, never a whole prompt or document list.

The input is the root's plain input, else its last user message (an LLM call as the root); the
output is its plain output, else its last output message, as the sessions page reads a trace's
turn (query/conversation.py). The stored view keeps a value either itself or as a reference to
the raw attribute holding it (``$refs``, conventions/_stored.py); both are read here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from tracepond.conventions import REFERABLE_SOURCES
from tracepond.model.records import TraceSummary
from tracepond.store._literals import blob_literal, int_literal, project_literal
from tracepond.store._search_sql import json_path

PREVIEW_CHARS: Final = 200
# Cut in SQL before the text reaches Python: enough to find a first line within.
_SQL_CHARS: Final = 4 * PREVIEW_CHARS
_FIELDS: Final = ("input", "output", "input_messages", "output_messages")
# Every raw attribute a stored view may refer to for those fields, read in one pass over the
# attributes (each json_extract call parses the whole text again).
_KEYS: Final = tuple(sorted({key for f in _FIELDS for key in REFERABLE_SOURCES[f]}))


def _paths(keys: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{json_path(k)}'" for k in keys) + "]"


def _referenced(field: str) -> str:
    """The raw attribute text the view's reference for ``field`` names (NULL without one)."""
    index = _FIELDS.index(field) + 1
    cases = " ".join(
        f"WHEN '{key}' THEN raw[{_KEYS.index(key) + 1}]" for key in REFERABLE_SOURCES[field]
    )
    return f"CASE ref[{index}] {cases} END"


def _jsonish(text: str) -> str:
    """Raw attribute text as ``jsonish`` reads it: JSON decoded (a string as itself, any other
    value as its JSON text), other text as it is."""
    return f"CASE WHEN json_valid({text}) THEN json_extract_string({text}, '$') ELSE {text} END"


def _text(message: str) -> str:
    """A message's text: its content, or its parts' text joined by newlines."""
    return (
        f"coalesce(json_extract_string({message}, '$.content'),"
        f" nullif(array_to_string(json_extract_string({message}, '$.parts[*].content'),"
        " chr(10)), ''))"
    )


_OWN_PATHS: Final = "[" + ", ".join(f"'$.{f}'" for f in _FIELDS) + "]"
_REF_PATHS: Final = "[" + ", ".join(f"'$.\"$refs\".{f}'" for f in _FIELDS) + "]"
# Each JSON text is parsed once (json_extract with a list of paths); the message lists, which
# only an LLM root has, again when they are taken apart.
_SELECT: Final = f"""
WITH roots AS ({{roots}}),
parsed AS MATERIALIZED (
    SELECT trace_id, span_id,
        json_extract(v, {_OWN_PATHS}) AS own,
        json_extract_string(v, {_REF_PATHS}) AS ref,
        json_extract_string(v, '$.tags[*]') AS tags,
        json_extract_string(a, {_paths(_KEYS)}) AS raw
    FROM roots
),
chosen AS MATERIALIZED (
    SELECT trace_id, span_id, tags,
        coalesce(json_extract_string(own[1], '$'), {_jsonish("raw_in")}) AS plain_in,
        coalesce(json_extract_string(own[2], '$'), {_jsonish("raw_out")}) AS plain_out,
        json_extract(coalesce(own[3], TRY_CAST(raw_im AS JSON)), '$[*]') AS im,
        json_extract(coalesce(own[4], TRY_CAST(raw_om AS JSON)), '$[*]') AS om
    FROM (
        SELECT *, {_referenced("input")} AS raw_in, {_referenced("output")} AS raw_out,
            {_referenced("input_messages")} AS raw_im, {_referenced("output_messages")} AS raw_om
        FROM parsed
    )
),
messages AS (
    SELECT *,
        coalesce(list_filter(im, lambda m: json_extract_string(m, '$.role') = 'user')[-1],
            im[-1]) AS asked,
        om[-1] AS answered
    FROM chosen
)
SELECT trace_id, span_id,
    left(coalesce(plain_in, {_text("asked")}), {_SQL_CHARS}),
    left(coalesce(plain_out, {_text("answered")}), {_SQL_CHARS}),
    tags
FROM messages"""


def with_previews(cursor: Any, summaries: list[TraceSummary], project: str) -> list[TraceSummary]:
    """``summaries`` with their previews and tags filled in (unchanged when the root span has
    not arrived or was stored before views were)."""
    roots = {s.trace_id: s.root_span_id for s in summaries if s.root_span_id is not None}
    window = _window(cursor, list(roots), project)
    if window is None:
        return summaries
    # One pass over the page's ingest window: a lookup per trace cost several times more (each
    # is a scan of its own). Span ids are matched in SQL, their traces here.
    span_ids = ", ".join(blob_literal(s) for s in roots.values())
    sql = _SELECT.format(
        roots="SELECT trace_id, span_id, view_json AS v, attributes_json AS a FROM spans"
        f" WHERE ingested_ns BETWEEN {int_literal(window[0])} AND {int_literal(window[1])}"
        f" AND project = {project_literal(project)} AND span_id IN ({span_ids})"
    )
    found = {}
    for trace_id, span_id, text_in, text_out, tags in cursor.execute(sql).fetchall():
        if roots.get(bytes(trace_id)) == bytes(span_id):
            found[bytes(trace_id)] = (first_line(text_in), first_line(text_out), tuple(tags or ()))
    return [_filled(s, found.get(s.trace_id)) for s in summaries]


def _filled(summary: TraceSummary, found: tuple[Any, Any, Any] | None) -> TraceSummary:
    if found is None:
        return summary
    text_in, text_out, tags = found
    return replace(summary, input_preview=text_in, output_preview=text_out, tags=tags)


def _window(cursor: Any, trace_ids: list[bytes], project: str) -> tuple[int, int] | None:
    """When the traces' spans were committed (first, last), over all of them."""
    if not trace_ids:
        return None
    ids = ", ".join(blob_literal(t) for t in trace_ids)
    sql = (
        "SELECT min(first_ingested_ns), max(last_ingested_ns) FROM traces"
        f" WHERE project = {project_literal(project)} AND trace_id IN ({ids})"
    )
    row = cursor.execute(sql).fetchall()[0]
    return None if row[0] is None else (int(row[0]), int(row[1]))


def first_line(text: str | None) -> str | None:
    """The first non-blank line, whitespace collapsed, at most PREVIEW_CHARS (ending in "…" when
    cut); None for no text."""
    if text is None:
        return None
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    line = " ".join(line.split())
    if not line:
        return None
    if len(line) > PREVIEW_CHARS:
        return line[: PREVIEW_CHARS - 1].rstrip() + "…"
    return line
