"""The full view as stored: its scalar columns plus compact JSON of the rest, written at ingest.

The store keeps the view's scalar fields in columns of their own (``SpanView.columns()``: for
filters and aggregates). ``view_json`` holds only what those columns do not: model spellings,
messages, plain input and output, documents, parameters, the tool call's id, arguments and
result, the error message, tags, metadata, the agent name. Only fields with a value are written,
so a chain span stores ``{}``. Reading merges the columns back in, and fills the absent fields
with null, which is exactly what ``SpanView.to_dict()`` returns for them.

Messages, documents and plain inputs and outputs are most of a view's bytes, and producers
usually sent them already in the normalized shape, as one attribute (``gen_ai.input.messages``,
``gen_ai.tool.call.arguments``, ``input.value``...). Then the stored view names that attribute
(``"$refs": {"input_messages": "gen_ai.input.messages"}``) instead of repeating its content:
rows stay smaller, and the writer, which limits ingest speed, has less to write. A reference
means "``jsonish`` of that raw attribute" and is written only after checking that this gives
the value; reading resolves it from the span's raw attributes, always stored with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from operator import attrgetter
from typing import Any, Final

import orjson

from tracepond.conventions._coerce import decode_again
from tracepond.conventions._model import UNKNOWN, SpanView
from tracepond.conventions._tables import REFERABLE_SOURCES

# The JSON part: view fields with no column, in SpanView field order.
EXTRA_FIELDS: Final = (
    "request_model",
    "response_model",
    "input_messages",
    "output_messages",
    "input",
    "output",
    "invocation_parameters",
    "documents",
    "input_documents",
    "tags",
    "metadata",
    "agent_name",
    "withheld",
)
_extra_values: Final = attrgetter(*EXTRA_FIELDS)
_NO_EXTRAS: Final = (None,) * len(EXTRA_FIELDS)
_USAGE_EXTRAS: Final = ("cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
_TOOL_EXTRAS: Final = ("call_id", "arguments", "result")
# The scalar columns that are view fields as they are.
COLUMN_FIELDS: Final = (
    "model",
    "provider",
    "cost",
    "cost_source",
    "cost_price",
    "session_id",
    "user_id",
    "document_count",
)
REFS: Final = "$refs"
# (field, member or "", path, candidate attributes), split once.
_REFERABLE: Final = tuple(
    (*path.partition(".")[::2], path, sources) for path, sources in REFERABLE_SOURCES.items()
)
NOTHING_ELSE: Final = "{}"


def view_json(view: SpanView, attributes: Mapping[str, Any] | None = None) -> str | None:
    """What of ``view`` its scalar columns do not hold, as compact JSON text; None if a value
    cannot be written as JSON (the reader then derives the view from the raw attributes, as for
    spans stored before views were). With ``attributes`` (the span's raw ones), values equal to
    one of them are stored as references to it."""
    values = _extra_values(view)
    usage = view.usage
    if (
        values == _NO_EXTRAS
        and view.tool is None
        and view.error is None
        and usage.cache_read_tokens is None
        and usage.cache_write_tokens is None
        and usage.reasoning_tokens is None
    ):
        return NOTHING_ELSE  # most spans of an agent: chains, HTTP calls
    extras = {k: v for k, v in zip(EXTRA_FIELDS, values, strict=True) if v is not None}
    usage_extras = {k: getattr(usage, k) for k in _USAGE_EXTRAS if getattr(usage, k) is not None}
    if usage_extras:
        extras["usage"] = usage_extras
    if view.tool is not None:
        tool = {k: getattr(view.tool, k) for k in _TOOL_EXTRAS}
        extras["tool"] = {k: v for k, v in tool.items() if v is not None}
    if view.error is not None:
        message = view.error.message
        extras["error"] = {} if message is None else {"message": message}
    if attributes:
        _refer_to_attributes(extras, attributes)
    try:
        return orjson.dumps(extras).decode()
    except TypeError:
        return None


def _refer_to_attributes(extras: dict[str, Any], attributes: Mapping[str, Any]) -> None:
    refs: dict[str, str] = {}
    for field, member, path, sources in _REFERABLE:
        holder = extras.get(field)
        if holder is None:
            continue
        if member:
            if type(holder) is not dict:
                continue
            value = holder.get(member)
            if value is None:
                continue
        else:
            value, holder, member = holder, extras, field
        for attribute in sources:
            raw = attributes.get(attribute)
            # Plain dicts, lists and scalars: a C-level comparison decides (numbers compare by
            # value: 1 and 1.0 are the same JSON number).
            if type(raw) is str and decode_again(raw) == value:
                refs[path] = attribute
                del holder[member]
                break
    if refs:
        extras[REFS] = refs


def view_from_json(
    text: str, columns: Mapping[str, Any], attributes: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The API's ``view`` object (equal to ``SpanView.to_dict()`` once serialized) from the
    stored ``view_json`` text, the span's view columns (``columns``: a stored span record) and
    its raw ``attributes`` (for references)."""
    extras: dict[str, Any] = orjson.loads(text)
    refs = extras.pop(REFS, None)
    if refs:
        _resolve_references(extras, refs, attributes or {})
    view = dict(_EMPTY)
    view["category"] = columns["category"] or UNKNOWN
    for name in COLUMN_FIELDS:
        view[name] = columns[name]
    for name in EXTRA_FIELDS:
        view[name] = extras.get(name)
    view["usage"] = _usage(columns, extras.get("usage") or {})
    tool = extras.get("tool")
    if tool is not None:
        view["tool"] = {"name": columns["tool_name"], **{k: tool.get(k) for k in _TOOL_EXTRAS}}
    error = extras.get("error")
    if error is not None:
        view["error"] = {"type": columns["error_type"], "message": error.get("message")}
    return view


def _resolve_references(
    extras: dict[str, Any], refs: dict[str, str], attributes: Mapping[str, Any]
) -> None:
    for path, attribute in refs.items():
        field, _, member = path.partition(".")
        raw = attributes.get(attribute)
        value = decode_again(raw) if isinstance(raw, str) else None
        if member:
            extras.setdefault(field, {})[member] = value
        else:
            extras[field] = value


def _usage(columns: Mapping[str, Any], extras: dict[str, Any]) -> dict[str, Any] | None:
    usage = {
        "input_tokens": columns["input_tokens"],
        "output_tokens": columns["output_tokens"],
        "total_tokens": columns["total_tokens"],
        **{name: extras.get(name) for name in _USAGE_EXTRAS},
    }
    return None if all(value is None for value in usage.values()) else usage


# Every key of the API's view object, null, in SpanView field order.
_EMPTY: Final = dict.fromkeys(item.name for item in fields(SpanView))
# Each view field is a column, in the JSON, or assembled from both (a test pins this).
STORED_IN_COLUMNS: Final = ("category", *COLUMN_FIELDS)
ASSEMBLED: Final = ("usage", "tool", "error")
