"""normalize(SpanInput) -> SpanView: one pass over the attributes, then field assembly."""

from __future__ import annotations

import logging
from typing import Any

from tracepond.conventions._coerce import REDACTED as REDACTED_TEXT
from tracepond.conventions._collect import Collected
from tracepond.conventions._derived import messages_in_input, messages_in_output
from tracepond.conventions._documents import (
    count_documents,
    count_from_attributes,
    count_from_events,
    documents,
    documents_from_events,
)
from tracepond.conventions._documents import documents_from_attributes as _attr_documents
from tracepond.conventions._errors import STATUS_ERROR, span_error
from tracepond.conventions._message_sources import input_messages, output_messages
from tracepond.conventions._metadata import metadata_of
from tracepond.conventions._model import (
    AGENT,
    LLM,
    NOT_CAPTURED,
    REDACTED,
    RERANKER,
    RETRIEVER,
    TOOL,
    UNKNOWN,
    SpanLike,
    SpanView,
    ToolCall,
    Usage,
)
from tracepond.conventions._tables import FAMILY_CATEGORY
from tracepond.conventions._tools import tool_arguments, tool_name_from_span, tool_result

_log = logging.getLogger(__name__)
_PARAM_CUT = len("param.")


def normalize(span: SpanLike, content: bool = True) -> SpanView:
    """The unified view of one span. Never raises: a bug yields a bare view, logged.

    ``content=False`` is the columns-only mode for ingest: messages, plain input/output, tool
    arguments/results, invocation parameters, tags and metadata are left None (and ``withheld``
    unset); every scalar column (``SpanView.columns()``), the documents and the tool name are
    still filled. The full view can be built later from the stored attributes and events.
    """
    try:
        return normalize_strict(span, content)
    except Exception:  # ingest must not fail on one odd span
        _log.exception("normalize failed for span %r", getattr(span, "name", None))
        return SpanView()


def normalize_strict(span: SpanLike, content: bool = True) -> SpanView:
    """``normalize`` without the safety net (tests and fuzzing call this to find bugs)."""
    attributes = span.attributes if isinstance(span.attributes, dict) else {}
    events = _events(span.events)
    name = span.name if isinstance(span.name, str) else ""
    found = Collected(attributes, content)
    groups = found.groups
    view = SpanView(category=_category(found, events))
    # Each step runs only when the span has a field it reads (see FIELD_GROUPS): most spans
    # carry a few groups, and plain infrastructure spans none.
    if not groups.isdisjoint(_MODEL_FIELDS):
        _models(found, view)
    if "usage" in groups:
        view.usage = _usage(found)
    if "cost" in groups:
        view.cost = _cost(found)
    if events or "content" in groups or "indexed" in groups:
        if content:
            _content(found, events, view)
            _documents(found, events, view)
        else:
            view.document_count = _document_count(found, events, view.category)
    if content and "param" in groups:
        view.invocation_parameters = _parameters(found)
    if view.category == TOOL:
        view.tool = _tool(found, name, content)
    if view.category == AGENT or not groups.isdisjoint(_CONTEXT_FIELDS):
        _context(found, view, name, content)
    if span.status_code == STATUS_ERROR or events or "error" in groups:
        view.error = span_error(
            found, span.status_code == STATUS_ERROR, span.status_message, events
        )
    if content and (view.category == LLM or "content" in groups or "indexed" in groups):
        _withheld(view)
    return view


_MODEL_FIELDS = frozenset({"model", "request_model", "response_model", "provider"})
_CONTEXT_FIELDS = frozenset(
    {"session_id", "user_id", "tags", "metadata", "agent_name", "entity_name"}
)


def _events(events: Any) -> list[dict[str, Any]]:
    if not events or not isinstance(events, list):
        return []
    return [event for event in events if isinstance(event, dict)]


def _category(found: Collected, events: list[dict[str, Any]]) -> str:
    category = found.get("category") or found.get("category_hint")
    if category is None:
        for family, implied in FAMILY_CATEGORY.items():
            if family in found.family_names:
                return implied
        if any(event.get("name") == "gen_ai.choice" for event in events):
            return LLM
    return category or found.get("category_weak") or UNKNOWN


def _models(found: Collected, view: SpanView) -> None:
    view.model = found.get("model")
    view.request_model = found.get("request_model")
    view.response_model = found.get("response_model")
    view.provider = found.get("provider")


def _usage(found: Collected) -> Usage:
    usage = Usage(
        input_tokens=found.get("input_tokens"),
        output_tokens=found.get("output_tokens"),
        total_tokens=found.get("total_tokens"),
        cache_read_tokens=found.get("cache_read_tokens"),
        cache_write_tokens=found.get("cache_write_tokens"),
        reasoning_tokens=found.get("reasoning_tokens"),
    )
    # OTel defines no total: compute it from input+output only, since cache tokens are inside
    # input and reasoning inside output (pitfall 6).
    if usage.total_tokens is None and usage.input_tokens is not None:
        usage.total_tokens = usage.input_tokens + (usage.output_tokens or 0)
    return usage


def _cost(found: Collected) -> float | None:
    total = found.get("cost")
    if total is not None:
        return float(total)
    parts = [found.get("cost_input"), found.get("cost_output")]
    present = [float(part) for part in parts if part is not None]
    return sum(present) if present else None


def _content(found: Collected, events: list[dict[str, Any]], view: SpanView) -> None:
    view.input = found.get("input")
    view.output = found.get("output")
    view.input_messages = input_messages(found, events)
    view.output_messages = output_messages(found, events)
    if view.category == LLM:  # only LLM I/O is worth reading as messages
        if view.input_messages is None:
            view.input_messages = messages_in_input(view.input)
        if view.output_messages is None:
            view.output_messages = messages_in_output(view.output)


def _parameters(found: Collected) -> dict[str, Any] | None:
    get = found.get
    params = {field[_PARAM_CUT:]: get(field) for field in found.params() if field in found.present}
    explicit = found.get("invocation_parameters")
    if explicit is not None:
        params.update(explicit)  # the producer's own map wins per key
    return params or None


def _documents(found: Collected, events: list[dict[str, Any]], view: SpanView) -> None:
    if view.category == RERANKER:
        view.input_documents = _attr_documents(found, "oi_reranker_input")
        view.documents = _attr_documents(found, "oi_reranker_output")
    else:
        view.documents = _attr_documents(found, "oi_documents")
    if view.documents is None:
        view.documents = documents_from_events(events) if events else None
    if view.documents is None and view.category in (RETRIEVER, RERANKER):
        view.documents = documents(found.late("output"))
    view.document_count = None if view.documents is None else len(view.documents)


def _document_count(found: Collected, events: list[dict[str, Any]], category: str) -> int | None:
    """Columns-only mode: the same sources as _documents, counted instead of built."""
    family = "oi_reranker_output" if category == RERANKER else "oi_documents"
    count = count_from_attributes(found, family)
    if count is None and events:
        count = count_from_events(events)
    if count is None and category in (RETRIEVER, RERANKER):
        count = count_documents(found.late("output"))
    return count


def _tool(found: Collected, span_name: str, content: bool) -> ToolCall:
    tool = ToolCall(
        name=found.get("tool_name") or tool_name_from_span(span_name),
        call_id=found.get("tool_call_id"),
    )
    if content:
        tool.arguments = tool_arguments(found.get("tool_arguments"))
        tool.result = tool_result(found.get("tool_result"))
    return tool


def _context(found: Collected, view: SpanView, span_name: str, content: bool) -> None:
    view.session_id = found.get("session_id")
    view.user_id = found.get("user_id")
    if content:
        view.tags = found.get("tags")
        view.metadata = metadata_of(found)
    view.agent_name = found.get("agent_name")
    if view.agent_name is None and view.category == AGENT:
        view.agent_name = found.get("entity_name") or _agent_from_span(span_name)


def _agent_from_span(name: str) -> str | None:
    for prefix in ("invoke_agent ", "create_agent "):
        if name.startswith(prefix):
            return name[len(prefix) :] or None
    return name.removesuffix(".agent") or None


def _withheld(view: SpanView) -> None:
    withheld: dict[str, str] = {}
    if view.input == REDACTED_TEXT:
        view.input = None
        withheld["input"] = REDACTED
    if view.output == REDACTED_TEXT:
        view.output = None
        withheld["output"] = REDACTED
    if view.input_messages is not None and _any_redacted(view.input_messages):
        withheld["input_messages"] = REDACTED
    if view.output_messages is not None and _any_redacted(view.output_messages):
        withheld["output_messages"] = REDACTED
    if view.category == LLM and not view.usage.is_empty():
        # A completed LLM call with no content anywhere: capture was off, not an empty prompt.
        if view.input_messages is None and view.input is None:
            withheld.setdefault("input_messages", NOT_CAPTURED)
        if view.output_messages is None and view.output is None:
            withheld.setdefault("output_messages", NOT_CAPTURED)
    view.withheld = withheld or None


def _any_redacted(messages: list[dict[str, Any]]) -> bool:
    return any(part.get("redacted") for message in messages for part in message["parts"])
