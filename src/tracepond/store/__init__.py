"""Storage: the store contract (`base`) and its DuckDB implementation. All SQL lives here."""

from tracepond.model.records import SpanRecord, TracePage, TraceSummary, WriteResult
from tracepond.store.base import SpanStore

__all__ = ["SpanRecord", "SpanStore", "TracePage", "TraceSummary", "WriteResult"]
