"""Storage: the store contract (`base`) and its DuckDB implementation. All SQL lives here."""

from tracepond.store.base import SpanRecord, SpanStore, TracePage, TraceSummary, WriteResult

__all__ = ["SpanRecord", "SpanStore", "TracePage", "TraceSummary", "WriteResult"]
