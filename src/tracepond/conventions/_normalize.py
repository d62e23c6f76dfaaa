"""normalize(SpanInput) -> SpanView: one pass over the attributes, then field assembly."""

from __future__ import annotations

import logging
from typing import Any

from tracepond.conventions._coerce import REDACTED as REDACTED_TEXT
from tracepond.conventions._coerce import finite_sum, saturating_add
from tracepond.conventions._collect import Collected, Plan, plan_for
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
from tracepond.conventions._prices import SENT
from tracepond.conventions._tables import CHOICE_EVENT
from tracepond.conventions._tools import tool_arguments, tool_name_from_span, tool_result

_log = logging.getLogger(__name__)
_PARAM_CUT = len("param.")


def normalize(span: SpanLike, content: bool = True) -> SpanView:
    """The unified view of one span. Never raises: a bug yields a bare view, logged.

    ``content=False`` is a columns-only mode: messages, plain input/output, tool
    arguments/results, invocation parameters, tags and metadata are left None (and ``withheld``
    unset); every scalar column (``SpanView.columns()``), the documents and the tool name are
    still filled. Ingest builds the full view (and stores it, ``view_json``).
    """
    try:
        return _view(
            span.name, span.status_code, span.status_message, span.attributes, span.events, content
        )
    except Exception:  # ingest must not fail on one odd span
        _log.exception("normalize failed for span %r", getattr(span, "name", None))
        return SpanView()


def normalize_fields(
    name: str,
    status_code: int,
    status_message: str,
    attributes: dict[str, Any],
    events: list[dict[str, Any]],
    content: bool = True,
) -> SpanView:
    """``normalize`` of a span given as its fields, for callers that hold them already (the
    ingest decoder): the same view, without building a SpanInput first. Never raises."""
    try:
        return _view(name, status_code, status_message, attributes, events, content)
    except Exception:  # ingest must not fail on one odd span
        _log.exception("normalize failed for span %r", name)
        return SpanView()


def normalize_strict(span: SpanLike, content: bool = True) -> SpanView:
    """``normalize`` without the safety net (tests and fuzzing call this to find bugs)."""
    return _view(
        span.name, span.status_code, span.status_message, span.attributes, span.events, content
    )


def _view(
    name: Any,
    status_code: Any,
    status_message: Any,
    attributes: Any,
    events: Any,
    content: bool,
) -> SpanView:
    if not isinstance(attributes, dict):
        attributes = {}
    plan = plan_for(attributes)
    events = _events(events) if events else []
    failed = status_code == STATUS_ERROR
    if plan.inert and not events and not failed:
        # No attribute any table names (plain HTTP, DB, framework spans): nothing to read.
        return SpanView()
    found = Collected(tuple(attributes.values()), plan, content)
    category = _category(found, plan, events)
    # Each step runs only when the span's key set has a source it reads (decided once per key
    # set by the plan): most spans carry a few groups, and plain infrastructure spans none.
    view = SpanView(category, usage=_usage(found)) if plan.usage else SpanView(category)
    if plan.models:
        _models(found, view)
    if plan.cost:
        view.cost = _cost(found)
        if view.cost is not None:
            view.cost_source = SENT
    documents = (
        events or plan.documents or (plan.output_documents and category in (RETRIEVER, RERANKER))
    )
    if content:
        if events or plan.content_step:
            _content(found, events, view)
        if documents:
            _documents(found, events, view)
        if plan.parameters:
            view.invocation_parameters = _parameters(found)
    elif documents:
        view.document_count = _document_count(found, events, category)
    if category == TOOL:
        view.tool = _tool(found, name if isinstance(name, str) else "", content)
    if category == AGENT or plan.context:
        _context(found, view, name if isinstance(name, str) else "", content)
    if failed or events or plan.error:
        view.error = span_error(found, failed, status_message, events)
    if content and (category == LLM or plan.content_step):
        _withheld(view)
    return view


def _events(events: Any) -> list[dict[str, Any]]:
    if not isinstance(events, list):
        return []
    return [event for event in events if isinstance(event, dict)]


def _category(found: Collected, plan: Plan, events: list[dict[str, Any]]) -> str:
    if plan.category_fields:
        category: str | None = found.get("category")
        if category is None and plan.hints:
            category = found.first(plan.hints)
        if category is not None:
            return category
    if plan.family_category is not None:
        return plan.family_category
    if events:
        for event in events:
            if event.get("name") == CHOICE_EVENT:
                return LLM
    if plan.weak:
        return found.first(plan.weak) or UNKNOWN
    return UNKNOWN


def _models(found: Collected, view: SpanView) -> None:
    view.model = found.get("model")
    view.request_model = found.get("request_model")
    view.response_model = found.get("response_model")
    view.provider = found.get("provider")


def _usage(found: Collected) -> Usage:
    get = found.get
    usage = Usage(
        get("input_tokens"),
        get("output_tokens"),
        get("total_tokens"),
        get("cache_read_tokens"),
        get("cache_write_tokens"),
        get("reasoning_tokens"),
    )
    # OTel defines no total: compute it from input+output only, since cache tokens are inside
    # input and reasoning inside output (pitfall 6).
    if usage.total_tokens is None and usage.input_tokens is not None:
        usage.total_tokens = saturating_add(usage.input_tokens, usage.output_tokens or 0)
    return usage


def _cost(found: Collected) -> float | None:
    total = found.get("cost")
    if total is not None:
        return float(total)
    parts = [found.get("cost_input"), found.get("cost_output")]
    present = [float(part) for part in parts if part is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else finite_sum(present[0], present[1])


def _content(found: Collected, events: list[dict[str, Any]], view: SpanView) -> None:
    get = found.get
    view.input = plain_input = get("input")
    view.output = plain_output = get("output")
    inputs = input_messages(found, events)
    outputs = output_messages(found, events)
    if view.category == LLM:  # only LLM I/O is worth reading as messages
        if inputs is None:
            inputs = messages_in_input(plain_input)
        if outputs is None:
            outputs = messages_in_output(plain_output)
    view.input_messages = inputs
    view.output_messages = outputs


def _parameters(found: Collected) -> dict[str, Any] | None:
    present = found.present
    params = {}
    for field in found.params():
        if field in present:
            params[field[_PARAM_CUT:]] = present[field]
    explicit = present.get("invocation_parameters")
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
    inputs = view.input_messages
    outputs = view.output_messages
    if inputs is not None and _any_redacted(inputs):
        withheld["input_messages"] = REDACTED
    if outputs is not None and _any_redacted(outputs):
        withheld["output_messages"] = REDACTED
    if view.category == LLM and not view.usage.is_empty():
        # A completed LLM call with no content anywhere: capture was off, not an empty prompt.
        if inputs is None and view.input is None:
            withheld.setdefault("input_messages", NOT_CAPTURED)
        if outputs is None and view.output is None:
            withheld.setdefault("output_messages", NOT_CAPTURED)
    view.withheld = withheld or None


def _any_redacted(messages: list[dict[str, Any]]) -> bool:
    for message in messages:
        for part in message["parts"]:
            if part.get("redacted"):
                return True
    return False
