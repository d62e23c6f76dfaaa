"""SQL for trace and span search: filters -> parameterized WHERE conditions.

Trace-level conditions read the ``traces`` summaries (one row per trace, cheap). Conditions
that need span contents (a category, a raw attribute, a tag, full text, a query) become
semi-joins on ``spans`` restricted to an ingest window passed as constants, so that DuckDB's
zone maps skip row groups that cannot hold a matching trace.
"""

from __future__ import annotations

from typing import Final

import orjson

from tracepond.model.filters import AttrFilter, Filters
from tracepond.store._params import Params

# traces keep per-category counts for these, so no span scan is needed for them.
_COUNTED_CATEGORIES: Final = {
    "llm": "llm_count",
    "tool": "tool_count",
    "retriever": "retriever_count",
}
# The attributes conventions read tags from (conventions/_tables.py, "tags").
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
# A retriever span that reported no documents returned nothing: it counts as 0, not unknown.
DOCUMENT_COUNT: Final = (
    "(CASE WHEN category = 'retriever' THEN coalesce(document_count, 0) ELSE document_count END)"
)
_NUMERIC_OPS: Final = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _range(p: Params, column: str, low: object, high: object) -> list[str]:
    out = []
    if low is not None:
        out.append(f"{column} >= {p.add(low)}")
    if high is not None:
        out.append(f"{column} <= {p.add(high)}")
    return out


def trace_conditions(f: Filters, p: Params) -> list[str]:
    """Conditions on ``traces t`` alone."""
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
        out.append(f"list_contains(t.models, {p.add(f.model)})")
    if f.category in _COUNTED_CATEGORIES:
        out.append(f"t.{_COUNTED_CATEGORIES[f.category]} > 0")
    return out


def trace_span_predicates(f: Filters, p: Params) -> list[str]:
    """Conditions a trace meets when one of its spans matches (each may be a different span)."""
    out = []
    if f.category is not None and f.category not in _COUNTED_CATEGORIES:
        out.append(f"s.category = {p.add(f.category)}")
    if f.min_documents is not None or f.max_documents is not None:
        out.append(" AND ".join(_range(p, DOCUMENT_COUNT, f.min_documents, f.max_documents)))
    out += [attribute_condition(a, p) for a in f.attributes]
    if f.tag is not None:
        out.append(tag_condition(f.tag, p))
    if f.text is not None:
        out.append(text_condition(f.text, p))
    return out


def span_conditions(f: Filters, p: Params) -> list[str]:
    """Conditions on ``spans s`` for span search (session/user are the trace's, see store)."""
    out = [f"s.project = {p.add(f.project)}"]
    out += _range(p, "s.start_ns", f.since_ns, f.until_ns)
    out += _range(p, "s.duration_ns", f.min_duration_ns, f.max_duration_ns)
    out += _range(p, SPAN_SORT["tokens"], f.min_tokens, f.max_tokens)
    out += _range(p, "s.cost", f.min_cost, f.max_cost)
    out += _range(p, DOCUMENT_COUNT, f.min_documents, f.max_documents)
    for column, value in (
        ("s.service_name", f.service),
        ("s.name", f.name),
        ("s.category", f.category),
        ("s.model", f.model),
    ):
        if value is not None:
            out.append(f"{column} = {p.add(value)}")
    if f.status is not None:
        out.append("s.status_code = 2" if f.status == "error" else "s.status_code <> 2")
    out += [attribute_condition(a, p) for a in f.attributes]
    if f.tag is not None:
        out.append(tag_condition(f.tag, p))
    if f.text is not None:
        out.append(text_condition(f.text, p))
    return out


def attribute_condition(a: AttrFilter, p: Params) -> str:
    value = f"json_extract_string(s.attributes_json, {p.add(json_path(a.key))})"
    if a.op == "exists":
        return f"{value} IS NOT NULL"
    if a.op in _NUMERIC_OPS:
        return f"TRY_CAST({value} AS DOUBLE) {_NUMERIC_OPS[a.op]} {p.add(float(a.value or 0))}"
    if a.op == "contains":
        return f"contains({value}, {p.add(a.value)})"
    # Absent attributes do not match "not equals": the filter is about spans that carry it.
    return f"{value} {'=' if a.op == 'eq' else '<>'} {p.add(a.value)}"


def tag_condition(tag: str, p: Params) -> str:
    """A tag in any of the tag attributes, whether sent as an array or as a JSON-array string."""
    quoted = p.add(orjson.dumps(tag).decode())
    plain = p.add(tag)
    parts = []
    for key in TAG_KEYS:
        path = p.add(json_path(key))
        parts.append(
            f"(json_extract_string(s.attributes_json, {path}) = {plain}"
            f" OR contains(CAST(json_extract(s.attributes_json, {path}) AS VARCHAR), {quoted})"
            f" OR contains(json_extract_string(s.attributes_json, {path}), {quoted}))"
        )
    return "(" + " OR ".join(parts) + ")"


def text_condition(text: str, p: Params) -> str:
    """Case-insensitive substring of the span name, its attributes (messages, documents, tool
    arguments and results live there) or its events. The JSON columns are searched for the
    text as JSON would spell it, so quotes and newlines in the text still match."""
    once = _json_inner(text)
    # Messages are often JSON text inside a string attribute: encoded twice in the column.
    twice = _json_inner(once)
    patterns = [once] if twice == once else [once, twice]
    parts = [_icontains("s.name", text, p)]
    for pattern in patterns:
        parts += [
            _icontains("s.attributes_json", pattern, p),
            _icontains("s.events_json", pattern, p),
        ]
    return "(" + " OR ".join(parts) + ")"


def _icontains(column: str, text: str, p: Params) -> str:
    """Case-insensitive literal substring test. ``ILIKE '%text%'`` (DuckDB has no default escape
    character, so a backslash is literal) is ~15% faster than ``contains(lower(column), …)``,
    which has to lower the whole column first; texts holding LIKE's wildcards use the latter,
    since ``ILIKE … ESCAPE`` runs a generic matcher ~3x slower (bench/README.md)."""
    if "%" in text or "_" in text:
        # lower() of a parameter would be evaluated per row: the text is lowered here.
        return f"contains(lower({column}), {p.add(text.lower())})"
    return f"{column} ILIKE {p.add('%' + text + '%')}"


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


def json_path(key: str) -> str:
    """The JSON path of a top-level attribute key (keys hold dots, so the key is quoted)."""
    return "$." + orjson.dumps(key).decode()
