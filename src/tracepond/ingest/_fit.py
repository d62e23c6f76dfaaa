"""Fitting a span's attributes, events and links into its byte budget (``_limits``).

Only spans over the budget come here: the decoder has serialized them already, and a span whose
JSON fits is never measured again. What is cut is chosen deterministically: the largest
attributes first (span, event and link attributes alike; equal sizes in the order they were
sent), since a few bulky values (prompts, documents, embeddings) are what makes a span large,
and dropping them keeps the many small attributes that say what the span was. If the span is
still over once no attribute is left, its last events, then its last links, are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from tracepond.ingest._limits import Marker

# Counts stored as unsigned 32-bit integers (OTLP's own type for them).
UINT32_MAX = 2**32 - 1


def add_count(count: int, more: int) -> int:
    """``count + more``, saturated at what a uint32 count column holds."""
    return min(count + more, UINT32_MAX)


@dataclass
class Fitted:
    """The span's JSON texts once within budget, and how many of each thing it lost."""

    attributes_json: bytes
    events_json: bytes
    links_json: bytes
    dropped_attributes: int = 0
    dropped_events: int = 0
    dropped_links: int = 0


@dataclass
class _Candidate:
    size: int
    holder: dict[str, Any]  # the attribute map the entry is in
    key: str
    marker: str
    owner: dict[str, Any] | None  # the event or link whose map it is; None for the span's


def fit_span(
    attributes: dict[str, Any],
    events: list[dict[str, Any]],
    links: list[dict[str, Any]],
    budget: int,
    truncated: list[str],
) -> Fitted:
    """Cut ``attributes``, ``events`` and ``links`` (in place) until their JSON texts together
    take at most ``budget`` bytes; the cuts are appended to ``truncated``."""
    fitted = Fitted(b"", b"", b"")
    candidates = _candidates(attributes, events, links)
    while True:
        fitted.attributes_json = orjson.dumps(attributes)
        fitted.events_json = orjson.dumps(events)
        fitted.links_json = orjson.dumps(links)
        over = _size(fitted) - budget
        if over <= 0:
            return fitted
        if candidates:
            _drop_attributes(candidates, over, fitted, truncated)
        elif events:
            fitted.dropped_events += _drop_last(events, over, "event", truncated)
        elif links:
            fitted.dropped_links += _drop_last(links, over, "link", truncated)
        else:  # empty attributes, events and links always fit a sane budget
            return fitted


def fit_map(attributes: dict[str, Any], budget: int, truncated: list[str]) -> int:
    """Cut one attribute map (a resource's or scope's) to ``budget`` bytes of JSON, largest
    entries first; returns how many entries were dropped."""
    if len(orjson.dumps(attributes)) <= budget:
        return 0
    return fit_span(attributes, [], [], budget, truncated).dropped_attributes


def _size(fitted: Fitted) -> int:
    return len(fitted.attributes_json) + len(fitted.events_json) + len(fitted.links_json)


def _candidates(
    attributes: dict[str, Any], events: list[dict[str, Any]], links: list[dict[str, Any]]
) -> list[_Candidate]:
    found = [_Candidate(0, attributes, key, key, None) for key in attributes]
    for owner, prefix in [(e, f"event:{e['name']}:") for e in events] + [
        (link, f"link:{link['span_id']}:") for link in links
    ]:
        held = owner["attributes"]
        found += [_Candidate(0, held, key, prefix + key, owner) for key in held]
    for candidate in found:
        # The bytes the entry takes in its map: "key":value and a comma.
        value = candidate.holder[candidate.key]
        candidate.size = len(orjson.dumps(candidate.key)) + len(orjson.dumps(value)) + 2
    # Largest first; sorted() is stable, so equal sizes keep the order they were sent in. The
    # list is consumed from its end.
    found.sort(key=lambda c: c.size, reverse=True)
    found.reverse()
    return found


def _drop_attributes(
    candidates: list[_Candidate], over: int, fitted: Fitted, truncated: list[str]
) -> None:
    """Drop the largest remaining entries until about ``over`` bytes are gone (the caller
    measures again: a map's last entry frees one byte less than its size)."""
    while candidates and over > 0:
        candidate = candidates.pop()
        del candidate.holder[candidate.key]
        over -= candidate.size
        truncated.append(Marker.DROPPED + candidate.marker)
        owner = candidate.owner
        if owner is None:
            fitted.dropped_attributes += 1
        else:
            owner["dropped_attributes_count"] = add_count(owner["dropped_attributes_count"], 1)


def _drop_last(items: list[dict[str, Any]], over: int, what: str, truncated: list[str]) -> int:
    """Drop items from the end until about ``over`` bytes are gone; returns how many."""
    dropped = 0
    while items and over > 0:
        item = items.pop()
        over -= len(orjson.dumps(item)) + 1
        label = item["name"] if what == "event" else item["span_id"]
        truncated.append(f"{Marker.DROPPED}{what}:{label}")
        dropped += 1
    return dropped
