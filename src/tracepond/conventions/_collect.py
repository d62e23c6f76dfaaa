"""Resolve a span's attributes into unified fields through a cached per-key-set plan.

Spans from one instrumentation repeat the same attribute keys, so the work that depends only on
the keys is compiled once per distinct key tuple into a ``Plan``: which fields they feed, in which
precedence order, which prefix families they belong to, and which assembly steps of
``normalize`` can have anything to do (a step with no source on the key set is skipped, and a
span whose keys no table names takes the inert fast path). Per span, only the values are parsed:
for each field present, sources are tried in precedence order and the first value that parses
wins (a malformed higher-precedence value falls through to the next source).

A plan is found by the exact key tuple, so it addresses the values by position: the span's
values are taken as one tuple, and no attribute is looked up by name (decoded keys are new
string objects on every span, and each lookup by name would compare the strings).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from tracepond.conventions._keys import METADATA, classify
from tracepond.conventions._parsers import Parser
from tracepond.conventions._tables import CONTENT_FIELDS, FAMILY_CATEGORY, FIELD_GROUPS

# family -> index -> suffix -> raw value
Indexed = dict[int, dict[str, Any]]

# Distinct key tuples are few per producer, but indexed chats multiply them: bound the cache.
_PLAN_LIMIT: Final = 4096


# Attributes are addressed by their position in the key tuple the plan was compiled for.
Sources = tuple[tuple[int, Parser], ...]  # (position, parser), in precedence order
Single = tuple[str, int, Parser]  # (field, position, parser): a field with one source present
Copy = tuple[str, str]  # (field, from field): same attribute and parser, so the same value

# Presence hints and generic kinds decide the category only when no explicit kind does: they
# are resolved on demand (``Collected.first``), not up front.
_LAZY_FIELDS: Final = frozenset({"category_hint", "category_weak"})
_CATEGORY_FIELDS: Final = frozenset({"category", "category_hint", "category_weak"})
_MODEL_FIELDS: Final = frozenset({"model", "request_model", "response_model", "provider"})
_CONTEXT_FIELDS: Final = frozenset(
    {"session_id", "user_id", "tags", "metadata", "agent_name", "entity_name"}
)
# Attribute families documents are read from (see _documents.py); the plain output is read for
# documents only on retriever and reranker spans.
_DOCUMENT_FAMILIES: Final = frozenset({"oi_documents", "oi_reranker_input", "oi_reranker_output"})


@dataclass(frozen=True, slots=True)
class Plan:
    # A slots class, not a NamedTuple: its fields are read on every span, and slot reads are
    # the cheapest attribute access.
    singles: tuple[Single, ...]  # fields with one source on this key set
    fields: tuple[tuple[str, Sources], ...]  # fields with several, in precedence order
    copies: tuple[Copy, ...]  # single-source fields whose source another field parses already
    # View-only fields, skipped in columns-only mode: the same three shapes.
    content_singles: tuple[Single, ...]
    content: tuple[tuple[str, Sources], ...]
    content_copies: tuple[Copy, ...]
    view_sources: dict[str, Sources]  # every view-only field's sources, for ``late``
    hints: Sources  # category_hint sources, in precedence order
    weak: Sources  # category_weak sources
    params: tuple[str, ...]  # the ``param.*`` fields present
    # family -> ((position, N, suffix), ...); rows are built only when a step asks
    indexed: dict[str, tuple[tuple[int, int, str], ...]]
    metadata: tuple[tuple[int, str], ...]  # (position, metadata key)
    groups: frozenset[str]
    family_names: frozenset[str]
    # Decisions that depend on the keys only, taken once per key set:
    inert: bool  # no key any table names: only the events and the status can say anything
    category_fields: bool  # a category source or hint is present (else: families/events decide)
    family_category: str | None  # the category an indexed family present implies
    # Which assembly steps of normalize have a source on this key set.
    models: bool
    usage: bool
    cost: bool
    content_step: bool  # messages, plain input and output
    documents: bool  # a document source whatever the category
    output_documents: bool  # a plain output, read for documents on retrievers and rerankers
    parameters: bool
    context: bool
    error: bool


_plans: dict[tuple[Any, ...], Plan] = {}


class Collected:
    """The attributes of one span, resolved per unified field and grouped by prefix family."""

    __slots__ = ("_plan", "_values", "family_names", "get", "present")

    def __init__(self, values: tuple[Any, ...], plan: Plan, content: bool = True) -> None:
        """``values``: the span's attribute values, in the order of the plan's key tuple."""
        resolved: dict[str, Any] = {}
        # One source is the common case: no inner loop for it.
        for field, position, parse in plan.singles:
            value = values[position]
            if value is not None:
                value = parse(value)
                if value is not None:
                    resolved[field] = value
        if plan.fields:
            _resolve(values, plan.fields, resolved)
        if plan.copies:
            _copy(plan.copies, resolved)
        if content:
            for field, position, parse in plan.content_singles:
                value = values[position]
                if value is not None:
                    value = parse(value)
                    if value is not None:
                        resolved[field] = value
            if plan.content:
                _resolve(values, plan.content, resolved)
            if plan.content_copies:
                _copy(plan.content_copies, resolved)
        self._values = values
        self._plan = plan
        self.present = resolved
        # ``get(field)``: the resolved value or None, as a plain dict lookup on the hot path.
        self.get = resolved.get
        self.family_names = plan.family_names

    def has(self, field: str) -> bool:
        return field in self.present

    def first(self, sources: Sources) -> Any:
        """The first of ``sources`` whose value parses (for the fields resolved on demand)."""
        values = self._values
        for position, parse in sources:
            value = values[position]
            if value is not None:
                value = parse(value)
                if value is not None:
                    return value
        return None

    def family(self, name: str) -> Indexed | None:
        """Rows of an indexed family: ``{N: {suffix: value}}``, or None when absent."""
        entries = self._plan.indexed.get(name)
        if entries is None:
            return None
        rows: Indexed = {}
        values = self._values
        for position, index, rest in entries:
            value = values[position]
            if value is not None:
                rows.setdefault(index, {})[rest] = value
        return rows or None

    def family_size(self, name: str) -> int | None:
        """How many rows ``family(name)`` has (distinct N with a value), without building them."""
        entries = self._plan.indexed.get(name)
        if entries is None:
            return None
        values = self._values
        rows = {index for position, index, _ in entries if values[position] is not None}
        return len(rows) or None

    def params(self) -> tuple[str, ...]:
        return self._plan.params

    def flat_metadata(self) -> dict[str, Any]:
        """Per-key flattened metadata (``langsmith.metadata.<k>`` …) as ``{k: raw value}``."""
        values = self._values
        return {key: values[position] for position, key in self._plan.metadata}

    def late(self, field: str) -> Any:
        """A content field, resolved now if columns-only mode skipped it up front."""
        present = self.present
        if field not in present:
            sources = self._plan.view_sources.get(field)
            if sources is not None:
                value = self.first(sources)
                if value is not None:
                    present[field] = value
        return present.get(field)


def _resolve(
    values: tuple[Any, ...], fields: tuple[tuple[str, Sources], ...], out: dict[str, Any]
) -> None:
    for field, sources in fields:
        for position, parse in sources:
            value = values[position]
            if value is not None:
                value = parse(value)
                if value is not None:
                    out[field] = value
                    break


def _copy(copies: tuple[Copy, ...], out: dict[str, Any]) -> None:
    for field, source in copies:
        if source in out:
            out[field] = out[source]


def plan_for(attributes: dict[str, Any]) -> Plan:
    signature = tuple(attributes)
    plan = _plans.get(signature)
    if plan is None:
        plan = _compile(signature)
        if len(_plans) >= _PLAN_LIMIT:
            _plans.clear()  # crude but bounded; the hot key sets come straight back
        _plans[signature] = plan
    return plan


def _compile(keys: tuple[Any, ...]) -> Plan:
    by_field: dict[str, list[tuple[int, int, Parser]]] = {}
    indexed: dict[str, list[tuple[int, int, str]]] = {}
    metadata: list[tuple[int, str]] = []
    for position, attribute in enumerate(keys):
        if not isinstance(attribute, str):
            continue
        info = classify(attribute)
        for field, rank, parse in info.sources:
            by_field.setdefault(field, []).append((rank, position, parse))
        if info.family == METADATA:
            metadata.append((position, info.rest))
        elif info.family is not None:
            indexed.setdefault(info.family, []).append((position, info.position, info.rest))
    ordered = {
        field: tuple((position, parse) for _, position, parse in sorted(found, key=_rank))
        for field, found in by_field.items()
    }
    groups = {FIELD_GROUPS.get(field, field.partition(".")[0]) for field in by_field}
    if indexed:
        groups.add("indexed")
    if metadata:
        groups.add("metadata")
    eager = [item for item in ordered.items() if item[0] not in _LAZY_FIELDS]
    seen: dict[tuple[int, Parser], str] = {}
    singles, copies = _singles([item for item in eager if not _view_only(item[0])], seen)
    content_singles, content_copies = _singles(
        [item for item in eager if _view_only(item[0])], seen
    )
    present = by_field.keys()
    return Plan(
        singles=singles,
        fields=tuple(item for item in eager if not _view_only(item[0]) and len(item[1]) > 1),
        copies=copies,
        content_singles=content_singles,
        content=tuple(item for item in eager if _view_only(item[0]) and len(item[1]) > 1),
        content_copies=content_copies,
        view_sources={field: sources for field, sources in eager if _view_only(field)},
        hints=ordered.get("category_hint", ()),
        weak=ordered.get("category_weak", ()),
        params=tuple(field for field in by_field if field.startswith("param.")),
        indexed={family: tuple(entries) for family, entries in indexed.items()},
        metadata=tuple(metadata),
        groups=frozenset(groups),
        family_names=frozenset(indexed),
        inert=not (by_field or indexed or metadata),
        category_fields=not _CATEGORY_FIELDS.isdisjoint(present),
        family_category=next(
            (implied for family, implied in FAMILY_CATEGORY.items() if family in indexed), None
        ),
        models=not _MODEL_FIELDS.isdisjoint(groups),
        usage="usage" in groups,
        cost="cost" in groups,
        content_step="content" in groups or bool(indexed),
        documents="retrieval_documents" in present or not _DOCUMENT_FAMILIES.isdisjoint(indexed),
        output_documents="output" in present,
        parameters="param" in groups,
        context=not _CONTEXT_FIELDS.isdisjoint(groups),
        error="error" in groups,
    )


def _singles(
    fields: list[tuple[str, Sources]], seen: dict[tuple[int, Parser], str]
) -> tuple[tuple[Single, ...], tuple[Copy, ...]]:
    """Single-source fields; one whose (attribute, parser) another field already parses copies
    that field's value instead of parsing again (tool arguments that are also the input...)."""
    singles: list[Single] = []
    copies: list[Copy] = []
    for field, sources in fields:
        if len(sources) != 1:
            continue
        position, parse = sources[0]
        source = seen.get((position, parse))
        if source is None:
            seen[position, parse] = field
            singles.append((field, position, parse))
        else:
            copies.append((field, source))
    return tuple(singles), tuple(copies)


def _rank(source: tuple[int, int, Parser]) -> int:
    return source[0]


def _view_only(field: str) -> bool:
    return field in CONTENT_FIELDS or field.startswith("param.")
