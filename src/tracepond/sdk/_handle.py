"""`SpanHandle`: typed setters for the GenAI attributes of one span. No method ever raises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from opentelemetry.trace import Span, Status, StatusCode, format_span_id, format_trace_id
from opentelemetry.util.types import AttributeValue

from tracepond.sdk import _attrs, _runtime
from tracepond.sdk._context import set_metadata
from tracepond.sdk._guard import swallow
from tracepond.sdk._messages import to_genai_documents, to_genai_messages
from tracepond.sdk._serialize import to_json


def encode(value: Any) -> str:
    """JSON text under the configured size and redaction rules."""
    settings = _runtime.settings()
    return to_json(value, redact=settings.redact, max_chars=settings.max_value_size)


def record_error(span: Span, error: BaseException) -> None:
    """Status ERROR, `error.type`, and an `exception` event; what every failure path does."""
    error_type = type(error)
    qualified = (
        error_type.__qualname__
        if error_type.__module__ == "builtins"
        else f"{error_type.__module__}.{error_type.__qualname__}"
    )
    span.set_attribute(_attrs.ERROR_TYPE, qualified)
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{error_type.__name__}: {error}"))


class SpanHandle:
    """Wraps an OpenTelemetry span; `.span` gives the span itself."""

    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span

    @property
    def trace_id(self) -> str:
        return format_trace_id(self.span.get_span_context().trace_id)

    @property
    def span_id(self) -> str:
        return format_span_id(self.span.get_span_context().span_id)

    @property
    def _capture(self) -> bool:
        return _runtime.settings().capture_content and self.span.is_recording()

    @swallow
    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.span.set_attribute(key, value)

    @swallow
    def set_input(self, value: Any) -> None:
        """Generic input of the step, as JSON in `tracepond.input`."""
        if self._capture:
            self.span.set_attribute(_attrs.INPUT, encode(value))

    @swallow
    def set_output(self, value: Any) -> None:
        """Generic output of the step, as JSON in `tracepond.output`."""
        if self._capture:
            self.span.set_attribute(_attrs.OUTPUT, encode(value))

    @swallow
    def set_model(
        self,
        model: str,
        *,
        provider: str | None = None,
        response_model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        """The model of an LLM/chat/embedding step (`gen_ai.request.model` and friends)."""
        self.span.set_attribute(_attrs.REQUEST_MODEL, model)
        optional = {
            _attrs.PROVIDER_NAME: provider,
            _attrs.RESPONSE_MODEL: response_model,
            _attrs.REQUEST_TEMPERATURE: temperature,
            _attrs.REQUEST_MAX_TOKENS: max_tokens,
        }
        for key, value in optional.items():
            if value is not None:
                self.span.set_attribute(key, value)

    @swallow
    def set_usage(
        self,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        *,
        total_tokens: int | None = None,
        cache_read_tokens: int | None = None,
        cache_write_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        cost: float | None = None,
    ) -> None:
        """Token usage (`gen_ai.usage.*`); the total is computed when not given. Cache tokens
        are counted in the input, reasoning tokens in the output. ``cost`` (USD) is what the
        call cost, when you know it: the server then keeps it instead of computing one from
        the model's price (docs/cost.md)."""
        if total_tokens is None and input_tokens is not None and output_tokens is not None:
            total_tokens = input_tokens + output_tokens
        optional = {
            _attrs.USAGE_INPUT_TOKENS: input_tokens,
            _attrs.USAGE_OUTPUT_TOKENS: output_tokens,
            _attrs.USAGE_TOTAL_TOKENS: total_tokens,
            _attrs.USAGE_CACHE_READ_INPUT_TOKENS: cache_read_tokens,
            _attrs.USAGE_CACHE_CREATION_INPUT_TOKENS: cache_write_tokens,
            _attrs.USAGE_REASONING_OUTPUT_TOKENS: reasoning_tokens,
        }
        for key, value in optional.items():
            if value is not None:
                self.span.set_attribute(key, int(value))
        if cost is not None:
            self.span.set_attribute(_attrs.USAGE_COST, float(cost))

    @swallow
    def set_input_messages(self, messages: Any) -> None:
        """Messages sent to the model: GenAI dicts, OpenAI-style dicts, LangChain messages."""
        if self._capture:
            self.span.set_attribute(_attrs.INPUT_MESSAGES, encode(to_genai_messages(messages)))

    @swallow
    def set_output_messages(self, messages: Any, *, finish_reason: str | None = None) -> None:
        """Messages the model produced; `finish_reason` also goes to each output message."""
        if finish_reason is not None:
            self.span.set_attribute(_attrs.RESPONSE_FINISH_REASONS, [finish_reason])
        if not self._capture:
            return
        converted = to_genai_messages(messages)
        if finish_reason is not None:
            for message in converted:
                message.setdefault("finish_reason", finish_reason)
        self.span.set_attribute(_attrs.OUTPUT_MESSAGES, encode(converted))

    @swallow
    def set_retrieval(self, query: str | None = None, documents: Iterable[Any] = ()) -> None:
        """Query and retrieved documents (LangChain Documents, dicts, (doc, score) pairs)."""
        if not self._capture:
            return
        if query is not None:
            self.span.set_attribute(_attrs.RETRIEVAL_QUERY_TEXT, query)
        docs = to_genai_documents(documents)
        if docs:
            self.span.set_attribute(_attrs.RETRIEVAL_DOCUMENTS, encode(docs))

    @swallow
    def set_tool_call(
        self,
        name: str | None = None,
        arguments: Any = None,
        *,
        call_id: str | None = None,
        description: str | None = None,
    ) -> None:
        """The tool being called and its arguments (`gen_ai.tool.*`)."""
        if name is not None:
            self.span.set_attribute(_attrs.TOOL_NAME, name)
        if call_id is not None:
            self.span.set_attribute(_attrs.TOOL_CALL_ID, call_id)
        if description is not None:
            self.span.set_attribute(_attrs.TOOL_DESCRIPTION, description)
        if arguments is not None and self._capture:
            self.span.set_attribute(_attrs.TOOL_CALL_ARGUMENTS, encode(arguments))

    @swallow
    def set_tool_result(self, result: Any) -> None:
        if self._capture:
            self.span.set_attribute(_attrs.TOOL_CALL_RESULT, encode(result))

    @swallow
    def set_session(self, session_id: str | None = None, user_id: str | None = None) -> None:
        """Session/user of this span only; use `tracepond.context()` for a whole subtree."""
        if session_id is not None:
            self.span.set_attribute(_attrs.CONVERSATION_ID, session_id)
            self.span.set_attribute(_attrs.SESSION_ID, session_id)
        if user_id is not None:
            self.span.set_attribute(_attrs.USER_ID, user_id)

    @swallow
    def set_tags(self, tags: Sequence[str]) -> None:
        self.span.set_attribute(_attrs.TAGS, [str(tag) for tag in tags])

    @swallow
    def set_metadata(self, metadata: Mapping[str, Any]) -> None:
        set_metadata(self.span, metadata)

    @swallow
    def add_event(self, name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
        self.span.add_event(name, attributes)

    @swallow
    def record_error(self, error: BaseException) -> None:
        """Mark the span failed with this exception (it is not raised)."""
        record_error(self.span, error)
