"""Helpers to assert on finished spans as a tree."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


class Spans:
    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.exporter = exporter

    def all(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def named(self, name: str) -> ReadableSpan:
        matches = [s for s in self.all() if s.name == name]
        assert len(matches) == 1, f"{len(matches)} spans named {name!r}: {self.names()}"
        return matches[0]

    def all_named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.all() if s.name == name]

    def names(self) -> list[str]:
        return [s.name for s in self.all()]

    def tree(self) -> list[Any]:
        """Nested `(name, [children...])` per root, children in start order."""
        spans = sorted(self.all(), key=lambda s: s.start_time or 0)
        ids = {s.context.span_id for s in spans}

        def build(parent_id: int | None) -> list[Any]:
            return [
                (s.name, build(s.context.span_id))
                for s in spans
                if (s.parent.span_id if s.parent and s.parent.span_id in ids else None) == parent_id
            ]

        return build(None)

    def clear(self) -> None:
        self.exporter.clear()


def attr(span: ReadableSpan, key: str) -> Any:
    assert span.attributes is not None
    return span.attributes.get(key)


def json_attr(span: ReadableSpan, key: str) -> Any:
    value = attr(span, key)
    assert isinstance(value, str), f"{key} missing on {span.name}: {span.attributes}"
    return json.loads(value)


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next((s for s in spans if s.context.span_id == span.parent.span_id), None)
