"""Search filters as ClickHouse conditions (the DuckDB store's ``store/_search_sql.py`` in
ClickHouse's dialect; same meaning).

Trace-level conditions read the ``traces`` summaries. Conditions that need span contents become
semi-joins on ``spans`` restricted to the hours (the sort key) and ingest time of the candidate
traces. JSON attributes are read with ``JSONExtract*`` by top-level key (keys hold dots, and a
key passed as an argument is taken literally).
"""

from __future__ import annotations

from typing import Final

import orjson

from tracepond.model.filters import AttrFilter, Filters
from tracepond.store.clickhouse._params import Params

_COUNTED_CATEGORIES: Final = {
    "llm": "llm_count",
    "tool": "tool_count",
    "retriever": "retriever_count",
}
TAG_KEYS: Final = ("tracepond.tags", "tag.tags", "langfuse.trace.tags", "langsmith.span.tags")
TRACE_SORT: Final = {
    "start_time": "t.start_ns",
    "duration": "(t.end_ns - t.start_ns)",
    "tokens": "t.total_tokens",
    "cost": "coalesce(t.cost, 0.0)",
}
SPAN_SORT: Final = {
    "start_time": "s.start_ns",
    "duration": "s.duration_ns",
    "tokens": "coalesce(s.total_tokens,"
    " coalesce(s.input_tokens, 0) + coalesce(s.output_tokens, 0))",
    "cost": "coalesce(s.cost, 0.0)",
}
DOCUMENT_COUNT: Final = (
    "(CASE WHEN category = 'retriever' THEN coalesce(document_count, 0) ELSE document_count END)"
)
_NUMERIC_OPS: Final = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def json_text(column: str, *path: str) -> str:
    """The value at ``path`` (parameter placeholders of keys) of a JSON text column as text, as
    DuckDB's json_extract_string gives it: a string as itself, another value as its JSON,
    NULL when absent or null."""
    keys = ", ".join(path)
    kind = f"JSONType({column}, {keys})"
    return (
        f"multiIf({kind} = 'String', toNullable(JSONExtractString({column}, {keys})),"
        f" {kind} = 'Null', NULL, toNullable(JSONExtractRaw({column}, {keys})))"
    )


def _range(p: Params, column: str, low: object, high: object) -> list[str]:
    out = []
    if low is not None:
        out.append(f"{column} >= {p.add(low)}")
    if high is not None:
        out.append(f"{column} <= {p.add(high)}")
    return out


def trace_conditions(f: Filters, p: Params) -> list[str]:
    out = [f"t.project = {p.add(f.project)}"]
    out += _range(p, "t.start_ns", f.since_ns, f.until_ns)
    out += _range(p, "(t.end_ns - t.start_ns)", f.min_duration_ns, f.max_duration_ns)
    out += _range(p, "t.total_tokens", f.min_tokens, f.max_tokens)
    out += _range(p, "t.cost", f.min_cost, f.max_cost)
    for column, value in (
        ("t.service_name", f.service),
        ("t.root_name", f.name),
        ("t.session_id", f.session_id),
        ("t.user_id", f.user_id),
    ):
        if value is not None:
            out.append(f"{column} = {p.add(value)}")
    if f.status is not None:
        out.append("t.error_count > 0" if f.status == "error" else "t.error_count = 0")
    if f.model is not None:
        out.append(f"has(t.models, {p.add(f.model)})")
    if f.category in _COUNTED_CATEGORIES:
        out.append(f"t.{_COUNTED_CATEGORIES[f.category]} > 0")
    return out


def trace_span_predicates(f: Filters, p: Params) -> list[str]:
    out = []
    if f.category is not None and f.category not in _COUNTED_CATEGORIES:
        out.append(f"s.category = {p.add(f.category)}")
    if f.min_documents is not None or f.max_documents is not None:
        out.append(" AND ".join(_range(p, _documents("s."), f.min_documents, f.max_documents)))
    out += [attribute_condition(a, p) for a in f.attributes]
    if f.tag is not None:
        out.append(tag_condition(f.tag, p))
    if f.text is not None:
        out.append(text_condition(f.text, p))
    return out


def span_conditions(f: Filters, p: Params) -> list[str]:
    out = [f"s.project = {p.add(f.project)}"]
    out += _range(p, "s.start_ns", f.since_ns, f.until_ns)
    out += _range(p, "s.duration_ns", f.min_duration_ns, f.max_duration_ns)
    out += _range(p, SPAN_SORT["tokens"], f.min_tokens, f.max_tokens)
    out += _range(p, "s.cost", f.min_cost, f.max_cost)
    out += _range(p, _documents("s."), f.min_documents, f.max_documents)
    for column, value in (
        ("s.service_name", f.service),
        ("s.name", f.name),
        ("s.category", f.category),
        ("s.model", f.model),
    ):
        if value is not None:
            out.append(f"{column} = {p.add(value)}")
    if f.status is not None:
        out.append("s.status_code = 2" if f.status == "error" else "s.status_code != 2")
    out += [attribute_condition(a, p) for a in f.attributes]
    if f.tag is not None:
        out.append(tag_condition(f.tag, p))
    if f.text is not None:
        out.append(text_condition(f.text, p))
    return out


def _documents(alias: str) -> str:
    return DOCUMENT_COUNT.replace("category", f"{alias}category").replace(
        "document_count", f"{alias}document_count"
    )


def attribute_condition(a: AttrFilter, p: Params) -> str:
    value = json_text("s.attributes_json", p.add(a.key))
    if a.op == "exists":
        return f"{value} IS NOT NULL"
    if a.op in _NUMERIC_OPS:
        number = p.add(float(a.value or 0))
        return f"coalesce(toFloat64OrNull({value}) {_NUMERIC_OPS[a.op]} {number}, false)"
    if a.op == "contains":
        return f"coalesce(position({value}, {p.add(a.value or '')}) > 0, false)"
    # Absent attributes do not match "not equals": the filter is about spans that carry it.
    return f"coalesce({value} {'=' if a.op == 'eq' else '!='} {p.add(a.value)}, false)"


def tag_condition(tag: str, p: Params) -> str:
    """A tag in any of the tag attributes, whether sent as an array or as a JSON-array string."""
    quoted = p.add(orjson.dumps(tag).decode())
    plain = p.add(tag)
    parts = []
    for key in TAG_KEYS:
        text = json_text("s.attributes_json", p.add(key))
        parts.append(f"coalesce({text} = {plain} OR position({text}, {quoted}) > 0, false)")
    return "(" + " OR ".join(parts) + ")"


def text_condition(text: str, p: Params) -> str:
    """Case-insensitive substring of the span name, its attributes or its events; the JSON
    columns are searched for the text as JSON spells it. The stored lowercase copy of all three
    (schema SEARCH_TEXT_COLUMN, n-gram indexed) is asked first. For a text JSON spells as it is
    (no quote, backslash or control character: most searches) that answer is the whole answer,
    since such a text cannot match across the copy's newline separators or JSON's punctuation;
    other texts are checked column by column on the rows it lets through."""
    once = _json_inner(text)
    twice = _json_inner(once)
    patterns = [once] if twice == once else [once, twice]
    candidates = (
        f"s.search_text LIKE lowerUTF8({p.add('%' + _like_escape(candidate) + '%')})"
        for candidate in dict.fromkeys([text, *patterns])
    )
    prefilter = " OR ".join(candidates)
    if once == text:
        return f"({prefilter})"
    parts = [_icontains("s.name", text, p)]
    for pattern in patterns:
        parts += [
            _icontains("s.attributes_json", pattern, p),
            _icontains("s.events_json", pattern, p),
        ]
    return f"(({prefilter}) AND ({' OR '.join(parts)}))"


def _icontains(column: str, text: str, p: Params) -> str:
    return f"positionCaseInsensitiveUTF8({column}, {p.add(text)}) > 0"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json_inner(text: str) -> str:
    return orjson.dumps(text).decode()[1:-1]


def keyset(
    sort_sql: str, descending: bool, after: tuple[object, ...], ids: list[str], p: Params
) -> str:
    """Rows strictly after ``after`` = (sort value, *ids) in the page order."""
    op = "<" if descending else ">"
    value = p.add(after[0])
    id_values = [p.add(v) for v in after[1:]]
    tie = " OR ".join(
        "("
        + " AND ".join(
            [f"{sort_sql} = {value}"]
            + [f"{ids[j]} = {id_values[j]}" for j in range(i)]
            + [f"{ids[i]} {op} {id_values[i]}"]
        )
        + ")"
        for i in range(len(ids))
    )
    return f"({sort_sql} {op} {value} OR {tie})"


def order_by(sort_sql: str, descending: bool, ids: list[str]) -> str:
    direction = "DESC" if descending else "ASC"
    return ", ".join(f"{column} {direction}" for column in [sort_sql, *ids])
