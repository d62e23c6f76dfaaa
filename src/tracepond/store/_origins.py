"""Span origins in SQL: where a span's resource and scope JSON are stored.

Since schema version 3 a span refers to a row of ``origins`` (``spans.origin_id``); spans stored
before hold the JSON inline in ``spans.resource_json`` / ``spans.scope_json`` (origin_id NULL).
Everything that reads a span's resource goes through these expressions, so it reads both alike.
"""

from __future__ import annotations

# A span's resource JSON, inside any query over ``spans`` (aliased or not): ``origin_id`` and
# ``resource_json`` name columns of spans, and the subquery names the origins row by ``o.``.
RESOURCE_JSON = (
    "coalesce(resource_json, (SELECT o.resource_json FROM origins o WHERE o.id = origin_id))"
)

# Every stored column of a span, its origin's JSON in place of the reference, for a WHERE on
# spans' own (unqualified) columns to follow.
SPAN_SELECT = (
    "SELECT spans.* EXCLUDE (ingested_ns, origin_id, resource_json, scope_json),"
    " coalesce(spans.resource_json, o.resource_json) AS resource_json,"
    " coalesce(spans.scope_json, o.scope_json) AS scope_json"
    " FROM spans LEFT JOIN origins o ON o.id = spans.origin_id"
)

INSERT_ORIGINS = (
    "INSERT OR IGNORE INTO origins (id, resource_json, scope_json)"
    " SELECT id, resource_json, scope_json FROM arrow_rows"
)
KNOWN_ORIGINS = "SELECT id FROM origins"
