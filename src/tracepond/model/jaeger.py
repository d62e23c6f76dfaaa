"""The request and record of the Jaeger reads of the store contract (``store/contract.py``, "Jaeger
reads"), after Jaeger v2's trace reader: a trace search (``TraceQuery``) and a service's
operations (``Operation``). The Jaeger API (``jaeger/``) turns its parameters into these."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TraceQuery:
    """A Jaeger trace search. Every condition applies to one span, as in Jaeger: a trace matches
    when one of its spans has the service, the operation (span name), every tag, a start in
    [start_ns, end_ns] and a duration in [min_duration_ns, max_duration_ns] (None: no bound).

    A tag matches a span attribute or a resource attribute whose value, as JSON text (``true``,
    ``42``, ``gpt-4o``), equals the given string; ``error=true`` also matches a span with status
    ERROR."""

    service: str | None = None
    operation: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    limit: int = 20


@dataclass(frozen=True)
class Operation:
    """A span name of a service, with its OTLP span kind (0 unspecified ... 5 consumer)."""

    name: str
    kind: int
