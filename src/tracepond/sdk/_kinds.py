"""The span kinds tracepond knows, and what each one means in GenAI terms."""

from __future__ import annotations

import enum
import logging

from tracepond.sdk import _attrs

logger = logging.getLogger("tracepond")


class SpanKind(enum.StrEnum):
    """What a step of an agent does. Written to `tracepond.span.kind`."""

    LLM = "llm"
    CHAT = "chat"
    EMBEDDING = "embedding"
    RETRIEVER = "retriever"
    RERANKER = "reranker"
    TOOL = "tool"
    AGENT = "agent"
    CHAIN = "chain"
    GUARDRAIL = "guardrail"
    EVALUATOR = "evaluator"
    UNKNOWN = "unknown"


# `gen_ai.operation.name` per kind; kinds the GenAI conventions have no operation for (reranker,
# evaluator, unknown) carry only `tracepond.span.kind`.
_OPERATIONS: dict[SpanKind, str] = {
    SpanKind.LLM: "text_completion",
    SpanKind.CHAT: "chat",
    SpanKind.EMBEDDING: "embeddings",
    SpanKind.RETRIEVER: "retrieval",
    SpanKind.TOOL: "execute_tool",
    SpanKind.AGENT: "invoke_agent",
    SpanKind.CHAIN: "invoke_workflow",
    SpanKind.GUARDRAIL: "apply_guardrail",
}


def coerce_kind(kind: SpanKind | str | None) -> SpanKind:
    """Accept a SpanKind or its string value (any case); unknown strings become UNKNOWN."""
    if kind is None:
        return SpanKind.UNKNOWN
    if isinstance(kind, SpanKind):
        return kind
    try:
        return SpanKind(str(kind).lower())
    except ValueError:
        logger.warning("tracepond: unknown span kind %r, using 'unknown'", kind)
        return SpanKind.UNKNOWN


def kind_attributes(kind: SpanKind, name: str) -> dict[str, str]:
    """The attributes that let any backend categorize a span of this kind."""
    attrs = {_attrs.SPAN_KIND: kind.value}
    operation = _OPERATIONS.get(kind)
    if operation is not None:
        attrs[_attrs.OPERATION_NAME] = operation
    if kind is SpanKind.TOOL:
        attrs[_attrs.TOOL_NAME] = name
    elif kind is SpanKind.AGENT:
        attrs[_attrs.AGENT_NAME] = name
    elif kind is SpanKind.CHAIN:
        attrs[_attrs.WORKFLOW_NAME] = name
    return attrs
