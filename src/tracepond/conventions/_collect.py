"""Resolve a span's attributes into unified fields through a cached per-key-set plan.

Spans from one instrumentation repeat the same attribute keys, so the work that depends only on
the keys (which fields they feed, in which precedence order, which prefix families they belong
to) is compiled once per distinct key tuple into a ``Plan``. Per span, only the values are
parsed: for each field present, sources are tried in precedence order and the first value that
parses wins (a malformed higher-precedence value falls through to the next source).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from tracepond.conventions._keys import METADATA, classify
from tracepond.conventions._parsers import Parser
from tracepond.conventions._tables import CONTENT_FIELDS, FIELD_GROUPS

# family -> index -> suffix -> raw value
Indexed = dict[int, dict[str, Any]]

# Distinct key tuples are few per producer, but indexed chats multiply them: bound the cache.
_PLAN_LIMIT: Final = 4096


Sources = tuple[tuple[str, Parser], ...]


class Plan(NamedTuple):
    singles: tuple[tuple[str, str, Parser], ...]  # fields with one source on this key set
    fields: tuple[tuple[str, Sources], ...]  # fields with several, in precedence order
    content: tuple[tuple[str, Sources], ...]  # view-only fields, skipped in columns-only mode
    params: tuple[str, ...]  # the ``param.*`` fields present
    # family -> ((attribute, position, suffix), ...); rows are built only when a step asks
    indexed: dict[str, tuple[tuple[str, int, str], ...]]
    metadata: tuple[tuple[str, str], ...]  # (attribute, metadata key)
    groups: frozenset[str]


_plans: dict[tuple[Any, ...], Plan] = {}


class Collected:
    """The attributes of one span, resolved per unified field and grouped by prefix family."""

    __slots__ = ("_attributes", "_plan", "family_names", "get", "groups", "present")

    def __init__(self, attributes: dict[str, Any], content: bool = True) -> None:
        plan = _plan_for(attributes)
        resolved: dict[str, Any] = {}
        # One source is the common case: no inner loop for it.
        for field, attribute, parse in plan.singles:
            value = attributes[attribute]
            if value is not None:
                result = parse(value)
                if result is not None:
                    resolved[field] = result
        if plan.fields:
            _resolve(attributes, plan.fields, resolved)
        if content and plan.content:
            _resolve(attributes, plan.content, resolved)
        self._attributes = attributes
        self._plan = plan
        self.present = resolved
        # ``get(field)``: the resolved value or None, as a plain dict lookup on the hot path.
        self.get = resolved.get
        self.groups = plan.groups
        self.family_names = plan.indexed.keys()

    def has(self, field: str) -> bool:
        return field in self.present

    def family(self, name: str) -> Indexed | None:
        """Rows of an indexed family: ``{N: {suffix: value}}``, or None when absent."""
        entries = self._plan.indexed.get(name)
        if entries is None:
            return None
        rows: Indexed = {}
        attributes = self._attributes
        for attribute, position, rest in entries:
            value = attributes[attribute]
            if value is not None:
                rows.setdefault(position, {})[rest] = value
        return rows or None

    def family_size(self, name: str) -> int | None:
        """How many indexed entries (distinct N) a family has, without reading values."""
        entries = self._plan.indexed.get(name)
        return None if entries is None else len({position for _, position, _ in entries})

    def params(self) -> tuple[str, ...]:
        return self._plan.params

    def flat_metadata(self) -> dict[str, Any]:
        """Per-key flattened metadata (``langsmith.metadata.<k>`` …) as ``{k: raw value}``."""
        attributes = self._attributes
        return {key: attributes[attribute] for attribute, key in self._plan.metadata}

    def late(self, field: str) -> Any:
        """A content field, resolved now if columns-only mode skipped it up front."""
        if field not in self.present:
            wanted = tuple(item for item in self._plan.content if item[0] == field)
            _resolve(self._attributes, wanted, self.present)
        return self.present.get(field)


def _resolve(
    attributes: dict[str, Any], fields: tuple[tuple[str, Sources], ...], out: dict[str, Any]
) -> None:
    for field, sources in fields:
        for attribute, parse in sources:
            value = attributes[attribute]
            if value is not None:
                result = parse(value)
                if result is not None:
                    out[field] = result
                    break


def _plan_for(attributes: dict[str, Any]) -> Plan:
    signature = tuple(attributes)
    plan = _plans.get(signature)
    if plan is None:
        plan = _compile(signature)
        if len(_plans) >= _PLAN_LIMIT:
            _plans.clear()  # crude but bounded; the hot key sets come straight back
        _plans[signature] = plan
    return plan


def _compile(keys: tuple[Any, ...]) -> Plan:
    by_field: dict[str, list[tuple[int, str, Parser]]] = {}
    indexed: dict[str, list[tuple[str, int, str]]] = {}
    metadata: list[tuple[str, str]] = []
    for attribute in keys:
        if not isinstance(attribute, str):
            continue
        info = classify(attribute)
        for field, rank, parse in info.sources:
            by_field.setdefault(field, []).append((rank, attribute, parse))
        if info.family == METADATA:
            metadata.append((attribute, info.rest))
        elif info.family is not None:
            indexed.setdefault(info.family, []).append((attribute, info.position, info.rest))
    ordered = [
        (field, tuple((attribute, parse) for _, attribute, parse in sorted(found, key=_rank)))
        for field, found in by_field.items()
    ]
    groups = {FIELD_GROUPS.get(field, field.partition(".")[0]) for field in by_field}
    if indexed:
        groups.add("indexed")
    if metadata:
        groups.add("metadata")
    scalar = [item for item in ordered if not _view_only(item[0])]
    return Plan(
        singles=tuple((field, *sources[0]) for field, sources in scalar if len(sources) == 1),
        fields=tuple(item for item in scalar if len(item[1]) > 1),
        content=tuple(item for item in ordered if _view_only(item[0])),
        params=tuple(field for field in by_field if field.startswith("param.")),
        indexed={family: tuple(entries) for family, entries in indexed.items()},
        metadata=tuple(metadata),
        groups=frozenset(groups),
    )


def _rank(source: tuple[int, str, Parser]) -> int:
    return source[0]


def _view_only(field: str) -> bool:
    return field in CONTENT_FIELDS or field.startswith("param.")
