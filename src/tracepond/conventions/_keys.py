"""Precompiled attribute-key classification: one dict lookup per attribute at ingest.

Each attribute key is classified once (which fields it feeds, at which precedence rank, and
whether it belongs to an indexed or metadata prefix family) and the result is cached. Producers
reuse a small set of keys, so after warm-up the hot path never scans prefixes.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from tracepond.conventions._parsers import Parser
from tracepond.conventions._tables import FIELD_SOURCES, INDEXED_FAMILIES, METADATA_PREFIXES

METADATA: Final = "metadata"


class FieldSource(NamedTuple):
    field: str
    rank: int
    parse: Parser


class KeyInfo(NamedTuple):
    sources: tuple[FieldSource, ...]
    family: str | None  # indexed family name, METADATA, or None
    position: int  # N for indexed families, else -1
    rest: str  # suffix after ``<prefix><N>.`` (indexed) or after the prefix (metadata)


def _compile_exact() -> dict[str, tuple[FieldSource, ...]]:
    exact: dict[str, list[FieldSource]] = {}
    for field, sources in FIELD_SOURCES.items():
        for rank, (attribute, parse) in enumerate(sources):
            exact.setdefault(attribute, []).append(FieldSource(field, rank, parse))
    return {attribute: tuple(found) for attribute, found in exact.items()}


_EXACT: Final = _compile_exact()
_INDEXED_PREFIXES: Final = tuple(INDEXED_FAMILIES)
_ANY_PREFIX: Final = _INDEXED_PREFIXES + METADATA_PREFIXES
NOTHING: Final = KeyInfo((), None, -1, "")  # a key no table mentions
# High-cardinality keys (long chats, user metadata) must not grow the cache without bound.
_CACHE_LIMIT: Final = 65_536
# Read directly by _collect on the hot path; filled only through classify().
key_cache: dict[str, KeyInfo] = {}


def classify(key: str) -> KeyInfo:
    """The cached classification of an attribute key."""
    info = key_cache.get(key)
    if info is None:
        info = _classify(key)
        if len(key_cache) < _CACHE_LIMIT:
            key_cache[key] = info
    return info


def _classify(key: str) -> KeyInfo:
    sources = _EXACT.get(key, ())
    if not key.startswith(_ANY_PREFIX):
        return KeyInfo(sources, None, -1, "") if sources else NOTHING
    for prefix in _INDEXED_PREFIXES:
        if key.startswith(prefix):
            index, _, rest = key[len(prefix) :].partition(".")
            if index.isascii() and index.isdigit() and rest and len(index) < 7:
                return KeyInfo(sources, INDEXED_FAMILIES[prefix], int(index), rest)
    for prefix in METADATA_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return KeyInfo(sources, METADATA, -1, key[len(prefix) :])
    return KeyInfo(sources, None, -1, "")
