"""What a listed trace was about: its root span's input and output (first line, bounded) and
tags, for one page of trace search results.

Only the page's root spans are read (each found through its trace's ingest window, so DuckDB
prunes row groups by zone maps), and the texts are picked out inside DuckDB: Python receives at
most ``_SQL_CHARS`` characters per value, never a whole prompt or document list.

The input is the root's plain input, else its last user message (an LLM call as the root); the
output is its plain output, else its last output message, as the sessions page reads a trace's
turn (query/conversation.py). The stored view keeps a value either itself or as a reference to
the raw attribute holding it (``$refs``, conventions/_stored.py); both are read here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from tracepond.store._literals import blob_literal, in_trace
from tracepond.store.base import TraceSummary

PREVIEW_CHARS: Final = 200
# Cut in SQL before the text reaches Python: enough to find a first line within.
_SQL_CHARS: Final = 4 * PREVIEW_CHARS


def _referenced(field: str) -> str:
    """The raw attribute text a view field refers to (NULL when it is stored in the view)."""
    return f"json_extract_string(a, '$.' || to_json(json_extract_string(v, '$.\"$refs\".{field}')))"


def _plain(field: str) -> str:
    """A plain input/output as text: a string as itself, any other value as its JSON."""
    raw = _referenced(field)
    return (
        f"coalesce(json_extract_string(json_extract(v, '$.{field}'), '$'),"
        f" CASE WHEN json_valid({raw}) THEN json_extract_string({raw}, '$') ELSE {raw} END)"
    )


def _messages(field: str) -> str:
    """A message list as a list of JSON messages."""
    stored = f"coalesce(json_extract(v, '$.{field}'), TRY_CAST({_referenced(field)} AS JSON))"
    return f"json_extract({stored}, '$[*]')"


def _text(message: str) -> str:
    """A message's text: its content, or its parts' text joined by newlines."""
    return (
        f"coalesce(json_extract_string({message}, '$.content'),"
        f" nullif(array_to_string(json_extract_string({message}, '$.parts[*].content'),"
        " chr(10)), ''))"
    )


_LAST_USER_MESSAGE: Final = (
    "coalesce(list_filter(im, lambda m: json_extract_string(m, '$.role') = 'user')[-1], im[-1])"
)
_SELECT: Final = f"""
SELECT trace_id,
    left(coalesce({_plain("input")}, {_text(_LAST_USER_MESSAGE)}), {_SQL_CHARS}),
    left(coalesce({_plain("output")}, {_text("om[-1]")}), {_SQL_CHARS}),
    json_extract_string(v, '$.tags[*]')
FROM (
    SELECT trace_id, v, a, {_messages("input_messages")} AS im, {_messages("output_messages")} AS om
    FROM ({{roots}})
)"""


def with_previews(cursor: Any, summaries: list[TraceSummary]) -> list[TraceSummary]:
    """``summaries`` with their previews and tags filled in (unchanged when the root span has
    not arrived or predates stored views)."""
    rooted = [s for s in summaries if s.root_span_id is not None]
    if not rooted:
        return summaries
    windows = _windows(cursor, [s.trace_id for s in rooted])
    roots = " UNION ALL ".join(
        "SELECT trace_id, view_json AS v, attributes_json AS a FROM spans"
        f" WHERE {in_trace(s.trace_id, windows[s.trace_id])}"
        f" AND span_id = {blob_literal(s.root_span_id)}"  # type: ignore[arg-type]
        for s in rooted
        if s.trace_id in windows
    )
    if not roots:
        return summaries
    found = {
        bytes(row[0]): row[1:] for row in cursor.execute(_SELECT.format(roots=roots)).fetchall()
    }
    out = []
    for summary in summaries:
        values = found.get(summary.trace_id)
        if values is None:
            out.append(summary)
            continue
        text_in, text_out, tags = values
        out.append(
            replace(
                summary,
                input_preview=first_line(text_in),
                output_preview=first_line(text_out),
                tags=tuple(tags or ()),
            )
        )
    return out


def _windows(cursor: Any, trace_ids: list[bytes]) -> dict[bytes, tuple[int, int]]:
    ids = ", ".join(blob_literal(t) for t in trace_ids)
    sql = (
        "SELECT trace_id, first_ingested_ns, last_ingested_ns FROM traces"
        f" WHERE trace_id IN ({ids})"
    )
    rows = cursor.execute(sql).fetchall()
    return {bytes(r[0]): (int(r[1]), int(r[2])) for r in rows}


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
