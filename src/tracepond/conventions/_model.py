"""The input and output shapes of normalization: SpanInput in, SpanView out.

SpanView is the one unified view of a span whatever convention produced it. Absent values are
None (``null`` in ``to_dict``), never empty strings or zeros, so "not reported" stays distinct
from "reported as zero". Content the producer withheld on purpose is listed in ``withheld``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from operator import attrgetter
from typing import Any, Final, Protocol

# Unified span categories (docs/conventions.md, "Categories").
LLM: Final = "llm"
EMBEDDING: Final = "embedding"
RETRIEVER: Final = "retriever"
RERANKER: Final = "reranker"
TOOL: Final = "tool"
AGENT: Final = "agent"
CHAIN: Final = "chain"
GUARDRAIL: Final = "guardrail"
EVALUATOR: Final = "evaluator"
UNKNOWN: Final = "unknown"
CATEGORIES: Final = (
    LLM,
    EMBEDDING,
    RETRIEVER,
    RERANKER,
    TOOL,
    AGENT,
    CHAIN,
    GUARDRAIL,
    EVALUATOR,
    UNKNOWN,
)

# Reasons a content field can be withheld.
REDACTED: Final = "redacted"  # the producer replaced it with "__REDACTED__"
NOT_CAPTURED: Final = "not_captured"  # an LLM call happened but content capture was off

Message = dict[str, Any]
Document = dict[str, Any]


class SpanLike(Protocol):
    """Any record with SpanInput's fields can be normalized (e.g. the decoder's own rows)."""

    @property
    def name(self) -> str: ...
    @property
    def status_code(self) -> int: ...
    @property
    def status_message(self) -> str: ...
    @property
    def attributes(self) -> dict[str, Any]: ...
    @property
    def events(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class SpanInput:
    """What the OTLP decoder yields for one span (attribute values already decoded)."""

    name: str = ""
    kind: int = 0
    status_code: int = 0
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    resource_attributes: dict[str, Any] = field(default_factory=dict)
    scope_name: str = ""


@dataclass(slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    def is_empty(self) -> bool:
        return (
            self.input_tokens is None
            and self.output_tokens is None
            and self.total_tokens is None
            and self.cache_read_tokens is None
            and self.cache_write_tokens is None
            and self.reasoning_tokens is None
        )


@dataclass(slots=True)
class ToolCall:
    name: str | None = None
    call_id: str | None = None
    arguments: Any = None
    result: Any = None


@dataclass(slots=True)
class ErrorInfo:
    type: str | None = None
    message: str | None = None


@dataclass(slots=True)
class SpanView:
    category: str = UNKNOWN
    model: str | None = None
    request_model: str | None = None
    response_model: str | None = None
    provider: str | None = None
    input_messages: list[Message] | None = None
    output_messages: list[Message] | None = None
    input: Any = None
    output: Any = None
    usage: Usage = field(default_factory=Usage)
    cost: float | None = None
    # Where ``cost`` came from: "sent" by the producer, or "computed" from a price entry, named
    # in ``cost_price`` ("genai-prices:openai/gpt-4o-mini", "override:<pattern>"); docs/cost.md.
    cost_source: str | None = None
    cost_price: str | None = None
    invocation_parameters: dict[str, Any] | None = None
    documents: list[Document] | None = None
    # len(documents); also set in columns-only mode, where documents are counted, not built
    document_count: int | None = None
    input_documents: list[Document] | None = None
    tool: ToolCall | None = None
    session_id: str | None = None
    user_id: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None
    agent_name: str | None = None
    error: ErrorInfo | None = None
    # field name -> REDACTED | NOT_CAPTURED, for content deliberately not sent
    withheld: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able ``view`` object of the API; absent values are None (null).

        Equal to ``dataclasses.asdict(self)`` (a deep copy, key order included) except for the
        empty usage, at a fraction of its cost: plain values are copied without ``deepcopy``.
        """
        out = dict(zip(_VIEW_FIELDS, _view_values(self), strict=True))
        for name, value in out.items():
            if type(value) not in _ATOMIC:
                out[name] = _plain(value)
        if self.usage.is_empty():
            out["usage"] = None
        return out

    # Scalar accessors: the columns the store indexes.
    @property
    def input_tokens(self) -> int | None:
        return self.usage.input_tokens

    @property
    def output_tokens(self) -> int | None:
        return self.usage.output_tokens

    @property
    def total_tokens(self) -> int | None:
        return self.usage.total_tokens

    @property
    def tool_name(self) -> str | None:
        return None if self.tool is None else self.tool.name

    @property
    def error_type(self) -> str | None:
        return None if self.error is None else self.error.type

    def columns(self) -> dict[str, Any]:
        """All scalar columns at once, keyed by column name."""
        return {
            "category": self.category,
            "model": self.model,
            "provider": self.provider,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "total_tokens": self.usage.total_tokens,
            "cost": self.cost,
            "cost_source": self.cost_source,
            "cost_price": self.cost_price,
            "session_id": self.session_id,
            "user_id": self.user_id,
            "document_count": self.document_count,
            "tool_name": self.tool_name,
            "error_type": self.error_type,
        }


_VIEW_FIELDS: Final = tuple(item.name for item in fields(SpanView))
_view_values: Final = attrgetter(*_VIEW_FIELDS)
# Values that ``copy.deepcopy`` returns as they are.
_ATOMIC: Final = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """What ``dataclasses.asdict`` makes of a field value: the same deep copy, with a fast path
    for the exact JSON types and the dataclasses that views hold."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        return {_plain(key): _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    names = _dataclass_fields.get(kind)
    if names is None and is_dataclass(kind):
        names = _dataclass_fields[kind] = tuple(item.name for item in fields(kind))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    # The rest as asdict's own recursion does it.
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return kind(*[_plain(item) for item in value])
    if isinstance(value, (list, tuple)):
        return kind(_plain(item) for item in value)
    if isinstance(value, dict):
        return kind((_plain(key), _plain(item)) for key, item in value.items())
    return copy.deepcopy(value)


# dataclass type -> its field names, in order (``fields()`` rebuilds them on every call)
_dataclass_fields: dict[type, tuple[str, ...]] = {}
