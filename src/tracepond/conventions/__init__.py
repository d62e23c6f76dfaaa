"""Producer conventions -> one unified span view (pure; no I/O).

Public API::

    view = normalize(SpanInput(name=..., kind=..., attributes=..., events=...))
    view = normalize_fields(name, status_code, status_message, attributes, events)  # same
    view.to_dict()          # the JSON-able ``view`` object of the API
    view.columns()          # scalar columns for the store
    view_json(view, attributes)  # what the columns do not hold, as stored at ingest
    view_from_json(text, columns, attributes)  # the API view object from what was stored
    trace_totals([(span_id, parent_span_id, view), ...])  # leaf-only token/cost totals
    price_view(view, start_ns, PriceTable(overrides))  # cost of an LLM call that sent none

See docs/conventions.md for the unified shapes and the precedence rules; the alias and precedence
data lives in ``_tables.py``.
"""

from tracepond.conventions._model import (
    CATEGORIES,
    NOT_CAPTURED,
    REDACTED,
    ErrorInfo,
    SpanInput,
    SpanLike,
    SpanView,
    ToolCall,
    Usage,
)
from tracepond.conventions._normalize import normalize, normalize_fields, normalize_strict
from tracepond.conventions._prices import (
    COMPUTED,
    SENT,
    PriceOverride,
    PriceTable,
    Rates,
    default_prices,
    price_view,
)
from tracepond.conventions._stored import view_from_json, view_json
from tracepond.conventions._totals import TraceTotals, trace_totals

__all__ = [
    "CATEGORIES",
    "COMPUTED",
    "NOT_CAPTURED",
    "REDACTED",
    "SENT",
    "ErrorInfo",
    "PriceOverride",
    "PriceTable",
    "Rates",
    "SpanInput",
    "SpanLike",
    "SpanView",
    "ToolCall",
    "TraceTotals",
    "Usage",
    "default_prices",
    "normalize",
    "normalize_fields",
    "normalize_strict",
    "price_view",
    "trace_totals",
    "view_from_json",
    "view_json",
]
