"""Producer conventions -> one unified span view (pure; no I/O).

Public API::

    view = normalize(SpanInput(name=..., kind=..., attributes=..., events=...))
    view = normalize_fields(name, status_code, status_message, attributes, events)  # same
    view.to_dict()          # the JSON-able ``view`` object of the API
    view.columns()          # scalar columns for the store
    view_json(view, attributes)  # what the columns do not hold, as stored at ingest
    view_from_json(text, columns, attributes)  # the API view object from what was stored
    trace_totals([(span_id, parent_span_id, view), ...])  # leaf-only token/cost totals
    summarize_table(table)  # per-trace partial summaries (model.summary) with those totals
    price_view(view, start_ns, PriceTable(overrides))  # cost of an LLM call that sent none

See docs/conventions.md for the unified shapes and the precedence rules; the alias and precedence
data lives in ``_tables.py``.

Layers: the conventions sit on the neutral data model (``tracepond.model``) and below the
store, which may use their pure functions (docs/architecture.md).
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
from tracepond.conventions._summaries import (
    batch_from_table,
    summarize,
    summarize_table,
    totals_by_trace,
    views_from_columns,
)
from tracepond.conventions._tables import REFERABLE_SOURCES
from tracepond.conventions._totals import trace_totals
from tracepond.model.summary import TraceTotals

__all__ = [
    "CATEGORIES",
    "COMPUTED",
    "NOT_CAPTURED",
    "REDACTED",
    "REFERABLE_SOURCES",
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
    "batch_from_table",
    "default_prices",
    "normalize",
    "normalize_fields",
    "normalize_strict",
    "price_view",
    "summarize",
    "summarize_table",
    "totals_by_trace",
    "trace_totals",
    "view_from_json",
    "view_json",
    "views_from_columns",
]
