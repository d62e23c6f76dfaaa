"""`TracepondCallbackHandler`: LangChain runs as OpenTelemetry spans.

Each run id maps to a span. A run's parent is the span of its parent run; a root run nests under
whatever OTel span is current when it starts (a `@trace` function, `tracepond.span()`, any other
instrumentation). Children derive their context from their parent run's, so the values of
`tracepond.context()` reach a whole LangChain tree even when LangChain runs steps in threads.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.trace import Span, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from tracepond.sdk import _attrs, _runtime
from tracepond.sdk._direct import start_span
from tracepond.sdk._guard import swallow
from tracepond.sdk._handle import SpanHandle, encode, record_error
from tracepond.sdk._kinds import SpanKind, kind_attributes
from tracepond.sdk.langchain import _convert


@dataclass
class _Run:
    span: Span
    context: otel_context.Context  # the context children start in
    started_ns: int
    first_token_seen: bool = False


class TracepondCallbackHandler(BaseCallbackHandler):
    """Pass as `callbacks=[TracepondCallbackHandler()]`, or use `instrument()` for all runs."""

    # Run in the caller's thread and context, also for async runs: span order and parentage
    # must not depend on an executor.
    run_inline = True
    raise_error = False

    def __init__(self, tracer_provider: otel_trace.TracerProvider | None = None) -> None:
        super().__init__()
        self._tracer = (
            tracer_provider.get_tracer("tracepond.langchain") if tracer_provider else None
        )
        self._runs: dict[UUID, _Run] = {}
        self._lock = threading.Lock()

    # --- plumbing --------------------------------------------------------------------------

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        kind: SpanKind,
        attributes: Mapping[str, AttributeValue],
        metadata: Mapping[str, Any] | None,
    ) -> SpanHandle:
        with self._lock:
            parent = self._runs.get(parent_run_id) if parent_run_id else None
        parent_context = parent.context if parent else otel_context.get_current()
        attrs: dict[str, AttributeValue] = dict(kind_attributes(kind, name))
        attrs[_attrs.LANGCHAIN_RUN_ID] = str(run_id)
        attrs.update(attributes)
        tracer = self._tracer or _runtime.tracer()
        span = start_span(tracer, name, attrs, parent_context)
        run = _Run(span, otel_trace.set_span_in_context(span, parent_context), time.monotonic_ns())
        with self._lock:
            self._runs[run_id] = run
        handle = SpanHandle(span)
        _apply_metadata(handle, metadata)
        return handle

    def _get(self, run_id: UUID) -> _Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def _end(self, run_id: UUID, error: BaseException | None = None) -> SpanHandle | None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None:
            return None
        if error is not None:
            record_error(run.span, error)
        run.span.end()
        return SpanHandle(run.span)

    def _capture(self) -> bool:
        return _runtime.settings().capture_content

    # --- chains (incl. prompts, parsers, agents) -------------------------------------------

    @swallow
    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _convert.run_name(serialized, kwargs)
        attrs: dict[str, AttributeValue] = {
            _attrs.LANGCHAIN_RUN_TYPE: str(kwargs.get("run_type") or "chain")
        }
        if self._capture() and not kwargs.get("defers_inputs"):
            attrs[_attrs.INPUT] = encode(_unwrap_input(inputs))
        kind = _convert.chain_kind(name, tags, metadata)
        self._start(run_id, parent_run_id, name, kind, attrs, metadata)

    @swallow
    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None and self._capture():
            if "inputs" in kwargs:  # streamed runs only know their input at the end
                run.span.set_attribute(_attrs.INPUT, encode(_unwrap_input(kwargs["inputs"])))
            run.span.set_attribute(_attrs.OUTPUT, encode(outputs))
        self._end(run_id)

    @swallow
    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    @swallow
    def on_agent_action(self, action: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None:
            tool_input = getattr(action, "tool_input", None)
            run.span.add_event(
                "gen_ai.agent.action",
                {"gen_ai.tool.name": str(getattr(action, "tool", "")), "input": encode(tool_input)},
            )

    @swallow
    def on_agent_finish(self, finish: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None:
            values = getattr(finish, "return_values", None)
            run.span.add_event("gen_ai.agent.finish", {"output": encode(values)})

    # --- models ----------------------------------------------------------------------------

    @swallow
    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        handle = self._start_model(
            SpanKind.CHAT, serialized, run_id, parent_run_id, metadata, kwargs
        )
        if handle is not None and messages:
            handle.set_input_messages(messages[0])

    @swallow
    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        handle = self._start_model(
            SpanKind.LLM, serialized, run_id, parent_run_id, metadata, kwargs
        )
        if handle is not None and prompts:
            handle.set_input_messages(prompts[:1])

    def _start_model(
        self,
        kind: SpanKind,
        serialized: dict[str, Any] | None,
        run_id: UUID,
        parent_run_id: UUID | None,
        metadata: Mapping[str, Any] | None,
        kwargs: Mapping[str, Any],
    ) -> SpanHandle:
        params = kwargs.get("invocation_params") or {}
        model = _convert.model_name(params, metadata)
        operation = "chat" if kind is SpanKind.CHAT else "text_completion"
        name = f"{operation} {model}" if model else _convert.run_name(serialized, kwargs)
        attrs: dict[str, AttributeValue] = {_attrs.LANGCHAIN_RUN_TYPE: "llm"}
        attrs.update(_convert.request_parameters(params, metadata))
        if model:
            attrs[_attrs.REQUEST_MODEL] = model
        provider = (metadata or {}).get("ls_provider")
        if provider:
            attrs[_attrs.PROVIDER_NAME] = str(provider)
        attrs[_attrs.INVOCATION_PARAMETERS] = encode(params)
        if params.get("tools") and self._capture():
            attrs[_attrs.TOOL_DEFINITIONS] = encode(params["tools"])
        return self._start(run_id, parent_run_id, name, kind, attrs, metadata)

    @swallow
    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is None or run.first_token_seen:
            return
        run.first_token_seen = True
        seconds = (time.monotonic_ns() - run.started_ns) / 1e9
        run.span.set_attribute(_attrs.REQUEST_STREAM, True)
        run.span.set_attribute(_attrs.TIME_TO_FIRST_CHUNK, seconds)
        run.span.add_event(_attrs.FIRST_TOKEN_EVENT, {_attrs.TIME_TO_FIRST_CHUNK: seconds})

    @swallow
    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None:
            handle = SpanHandle(run.span)
            usage = _convert.usage_from_result(response)
            handle.set_usage(
                usage.get("input"),
                usage.get("output"),
                total_tokens=usage.get("total"),
                cache_read_tokens=usage.get("cache_read"),
                reasoning_tokens=usage.get("reasoning"),
            )
            model, response_id, finish = _convert.response_details(response)
            if model:
                run.span.set_attribute(_attrs.RESPONSE_MODEL, model)
            if response_id:
                run.span.set_attribute(_attrs.RESPONSE_ID, response_id)
            handle.set_output_messages(_convert.output_messages(response), finish_reason=finish)
        self._end(run_id)

    @swallow
    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # --- tools -----------------------------------------------------------------------------

    @swallow
    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        tool = _convert.run_name(serialized, kwargs)
        attrs: dict[str, AttributeValue] = {
            _attrs.LANGCHAIN_RUN_TYPE: "tool",
            _attrs.TOOL_TYPE: "function",
        }
        description = (serialized or {}).get("description")
        if description:
            attrs[_attrs.TOOL_DESCRIPTION] = str(description)
        if kwargs.get("tool_call_id"):
            attrs[_attrs.TOOL_CALL_ID] = str(kwargs["tool_call_id"])
        if self._capture():
            arguments = inputs if inputs is not None else _maybe_json(input_str)
            attrs[_attrs.TOOL_CALL_ARGUMENTS] = encode(arguments)
        handle = self._start(
            run_id, parent_run_id, f"execute_tool {tool}", SpanKind.TOOL, attrs, metadata
        )
        handle.set_attribute(_attrs.TOOL_NAME, tool)

    @swallow
    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None:
            if self._capture():
                run.span.set_attribute(
                    _attrs.TOOL_CALL_RESULT, encode(_convert.tool_result(output))
                )
            if getattr(output, "status", None) == "error":
                # handle_tool_error turned the exception into a message for the model; the
                # step still failed.
                run.span.set_attribute(_attrs.ERROR_TYPE, "ToolException")
                run.span.set_status(Status(StatusCode.ERROR, str(getattr(output, "content", ""))))
        self._end(run_id)

    @swallow
    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    # --- retrievers ------------------------------------------------------------------------

    @swallow
    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        name = _convert.run_name(serialized, kwargs)
        attrs: dict[str, AttributeValue] = {_attrs.LANGCHAIN_RUN_TYPE: "retriever"}
        store = (metadata or {}).get("ls_vector_store_provider")
        if store:
            attrs[_attrs.DATA_SOURCE_ID] = str(store)
        if self._capture():
            attrs[_attrs.RETRIEVAL_QUERY_TEXT] = query
        self._start(run_id, parent_run_id, f"retrieval {name}", SpanKind.RETRIEVER, attrs, metadata)

    @swallow
    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None:
            SpanHandle(run.span).set_retrieval(documents=documents)
        self._end(run_id)

    @swallow
    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end(run_id, error)

    @swallow
    def on_retry(self, retry_state: Any, *, run_id: UUID, **kwargs: Any) -> None:
        run = self._get(run_id)
        if run is not None:
            attempt = getattr(retry_state, "attempt_number", 0)
            run.span.add_event("retry", {"attempt": int(attempt)})


def _apply_metadata(handle: SpanHandle, metadata: Mapping[str, Any] | None) -> None:
    """LangChain's conventional thread keys become the GenAI conversation id."""
    if not metadata:
        return
    session = next(
        (metadata[k] for k in ("session_id", "thread_id", "conversation_id") if metadata.get(k)),
        None,
    )
    user = metadata.get("user_id")
    if session is not None or user is not None:
        handle.set_session(
            str(session) if session is not None else None, str(user) if user else None
        )


def _unwrap_input(inputs: Any) -> Any:
    """LangChain wraps non-dict inputs as {"input": value}; show the value itself."""
    if isinstance(inputs, Mapping) and set(inputs) == {"input"}:
        return inputs["input"]
    return inputs


def _maybe_json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
