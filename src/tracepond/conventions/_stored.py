"""The full view as stored: compact JSON written at ingest, read back as ``to_dict()`` gives it.

The store keeps the scalar view fields in their own columns (for filters and aggregates) and
the whole view as JSON next to them, so that reading a span never re-derives it. Only fields
with a value are written (a chain span's view is a few dozen bytes); reading fills the absent
ones with null, which is exactly what ``SpanView.to_dict()`` returns for them.

Messages and documents are most of a view's bytes, and with the OTel GenAI conventions the
producer usually sent them already in the normalized shape, as one JSON attribute. Then the
stored view names that attribute (``{"$attribute": "gen_ai.input.messages"}``) instead of
repeating its content: rows stay smaller, and the writer, which limits ingest speed, has less
to write. Reading resolves the name from the span's raw attributes (always stored with it).
Only list-valued fields are stored this way, so a reference can never be mistaken for a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from operator import attrgetter
from typing import Any, Final

import orjson

from tracepond.conventions._model import CATEGORIES, SpanView

_FIELDS: Final = tuple(item.name for item in fields(SpanView))
_OPTIONAL: Final = tuple(name for name in _FIELDS if name != "usage")
_optional_values: Final = attrgetter(*_OPTIONAL)
assert _OPTIONAL[0] == "category"
_NO_VALUES: Final = (None,) * (len(_OPTIONAL) - 1)
_CATEGORY_ONLY: Final = {name: orjson.dumps({"category": name}).decode() for name in CATEGORIES}
# Every key of the API's view object, null, in field order.
_EMPTY: Final = dict.fromkeys(_FIELDS)


# View field -> the raw attribute that often holds exactly its value (as JSON text).
VERBATIM_SOURCES: Final = {
    "input_messages": "gen_ai.input.messages",
    "output_messages": "gen_ai.output.messages",
    "documents": "gen_ai.retrieval.documents",
}
REFERENCE: Final = "$attribute"


def view_json(view: SpanView, attributes: Mapping[str, Any] | None = None) -> str | None:
    """The view as compact JSON text; None if a value cannot be written as JSON (the reader
    then derives the view from the raw attributes, as for spans stored before views were).
    With ``attributes`` (the span's raw ones), fields equal to one of them are references."""
    values = _optional_values(view)
    if values[1:] == _NO_VALUES and view.usage.is_empty():
        # Most spans of an agent (chains, HTTP calls) have a category and nothing else.
        known = _CATEGORY_ONLY.get(values[0])
        if known is not None:
            return known
    present = {k: v for k, v in zip(_OPTIONAL, values, strict=True) if v is not None}
    if not view.usage.is_empty():
        present["usage"] = view.usage
    try:
        if attributes:
            _refer_to_attributes(present, attributes)
        return orjson.dumps(present).decode()
    except TypeError:
        return None


def _refer_to_attributes(present: dict[str, Any], attributes: Mapping[str, Any]) -> None:
    for field, attribute in VERBATIM_SOURCES.items():
        value = present.get(field)
        raw = attributes.get(attribute)
        if value is None or not isinstance(raw, str):
            continue
        # Messages and documents are plain dicts and lists, so one parse and a C-level
        # comparison decide (numbers compare by value: 1 and 1.0 are the same JSON number).
        try:
            same = orjson.loads(raw) == value
        except orjson.JSONDecodeError:
            continue
        if same:
            present[field] = {REFERENCE: attribute}


def view_from_json(text: str, attributes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The API's ``view`` object from ``view_json`` text (equal to ``SpanView.to_dict()`` once
    serialized); references are resolved from ``attributes``, the span's raw attributes."""
    view = dict(_EMPTY)
    view.update(orjson.loads(text))
    for field in VERBATIM_SOURCES:
        value = view[field]
        if isinstance(value, dict) and REFERENCE in value:
            raw = (attributes or {}).get(value[REFERENCE])
            view[field] = orjson.loads(raw) if isinstance(raw, str) else None
    return view
