"""Storage: the store contract (`contract`) and its implementations. All SQL lives here."""

from tracepond.store.contract import SpanReader, SpanWriter, Store, StoreMaintenance

__all__ = ["SpanReader", "SpanWriter", "Store", "StoreMaintenance"]
