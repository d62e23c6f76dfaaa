"""One execution of a traced function: its span plus what to capture into it.

Every method is guarded: whatever goes wrong while recording is logged, never raised, so the
decorated function behaves exactly as if it were not decorated.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from opentelemetry.trace import INVALID_SPAN, Span
from opentelemetry.util.types import AttributeValue

from tracepond.sdk import _attrs, _runtime
from tracepond.sdk._call_json import PositionalJson
from tracepond.sdk._direct import start_span
from tracepond.sdk._guard import swallow
from tracepond.sdk._handle import SpanHandle, encode, record_error
from tracepond.sdk._kinds import SpanKind, kind_attributes
from tracepond.sdk._serialize import (
    arguments_jsonable,
    flat_arguments_json,
    flat_json,
    to_jsonable,
)
from tracepond.sdk._span import end
from tracepond.sdk._stream import Stream

logger = logging.getLogger("tracepond")

_MODEL_KINDS = (SpanKind.CHAT, SpanKind.LLM)
_MESSAGE_ARGUMENTS = ("messages", "prompt", "prompts")


@dataclass(frozen=True, slots=True)
class Spec:
    """Everything fixed at decoration time."""

    name: str
    kind: SpanKind
    attributes: Mapping[str, AttributeValue]
    capture_input: bool
    capture_output: bool
    redact: frozenset[str]
    signature: inspect.Signature | None
    skip_first: bool
    # Fast binding for plain signatures (no *args/**kwargs/keyword-only): names and defaults.
    positional: tuple[str, ...] | None = None
    defaults: Mapping[str, Any] | None = None
    # What every span of this function starts with: the kind's attributes, then `attributes`.
    # Read-only: OTel hands it to the sampler. `start_dict` is the same as a plain dict, to copy
    # from (copying a mappingproxy costs three times as much).
    start_attributes: Mapping[str, AttributeValue] = field(init=False)
    start_dict: dict[str, AttributeValue] = field(init=False)
    # For positional-only calls of a plain signature: how many parameters have no default,
    # and the (name, default) pairs of the others, in order (defaults are always trailing).
    required: int = field(init=False)
    trailing: tuple[tuple[str, Any], ...] = field(init=False)
    # Writes the input JSON of positional calls directly, for the kinds whose input is only
    # that text (chat and LLM steps read messages, retrievers a query, from the bound dict).
    positional_json: PositionalJson | None = field(init=False)

    def __post_init__(self) -> None:
        merged: dict[str, AttributeValue] = dict(kind_attributes(self.kind, self.name))
        merged.update(self.attributes)
        object.__setattr__(self, "start_attributes", MappingProxyType(merged))
        object.__setattr__(self, "start_dict", merged)
        names, defaults = self.positional or (), self.defaults or {}
        required = next((i for i, name in enumerate(names) if name in defaults), len(names))
        trailing = tuple((name, defaults[name]) for name in names[required:] if name in defaults)
        if len(trailing) != len(names) - required:  # not trailing after all: no shortcut
            required, trailing = len(names) + 1, ()
        object.__setattr__(self, "required", required)
        object.__setattr__(self, "trailing", trailing)
        direct_input = self.kind not in (SpanKind.CHAT, SpanKind.LLM, SpanKind.RETRIEVER)
        writer = PositionalJson.for_signature(self.positional, self.defaults, self.skip_first)
        object.__setattr__(self, "positional_json", writer if direct_input else None)


class Run:
    __slots__ = ("_capture", "_max_chars", "_redact", "_stream", "span", "spec")

    def __init__(self, spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.spec = spec
        settings = _runtime._settings or _runtime.settings()
        self._redact = spec.redact | settings.redact if settings.redact else spec.redact
        self._max_chars = settings.max_value_size
        attributes = spec.start_attributes
        pending: dict[str, Any] | None = None  # arguments to record once the span exists
        if settings.capture_content and spec.capture_input:
            try:
                writer = spec.positional_json
                text = None
                if writer is not None and not kwargs and not self._redact:
                    text = writer.text(args, settings.max_value_size)
                if text is not None:  # the common call: no binding at all
                    attributes = self._with_input(text)
                else:
                    pending = bind_arguments(spec, args, kwargs)
                    early = self._early_input(pending, settings.max_value_size)
                    if early is not None:
                        attributes, pending = early, None
            except Exception:
                logger.warning("tracepond: instrumentation error in _record_inputs", exc_info=True)
                pending = None
        try:
            tracer = _runtime._tracer or _runtime.tracer()
            self.span: Span = start_span(tracer, spec.name, attributes)
        except Exception:
            logger.warning("tracepond: could not start span %r", spec.name, exc_info=True)
            self.span = INVALID_SPAN
        # Serializing costs far more than the span; skip it when nobody records the span.
        self._capture = settings.capture_content and self.span.is_recording()
        self._stream: Stream | None = None  # what a generator streamed (see begin_stream)
        if self._capture and pending is not None:
            self._record_inputs(pending, settings.max_value_size)

    def _early_input(
        self, arguments: dict[str, Any], max_chars: int
    ) -> dict[str, AttributeValue] | None:
        """The start attributes plus the input, when the input is flat (the common case): then
        it is passed at span creation, cheaper than setting it afterwards, and costs little if
        the sampler drops the span. None otherwise: it is recorded after the span starts."""
        kind = self.spec.kind
        if self._redact or kind is SpanKind.CHAT or kind is SpanKind.LLM:
            return None
        text = flat_arguments_json(arguments, max_chars)
        if text is None:
            return None
        attributes = self._with_input(text)
        if kind is SpanKind.RETRIEVER:
            query = next((v for v in arguments.values() if isinstance(v, str)), None)
            if query is not None:
                attributes[_attrs.RETRIEVAL_QUERY_TEXT] = query
        return attributes

    def _with_input(self, text: str) -> dict[str, AttributeValue]:
        """The start attributes plus the input JSON `text` (and a tool's arguments)."""
        attributes = {**self.spec.start_dict, _attrs.INPUT: text}
        if self.spec.kind is SpanKind.TOOL:
            attributes[_attrs.TOOL_CALL_ARGUMENTS] = text
        return attributes

    def _record_inputs(self, bound: dict[str, Any], max_chars: int) -> None:
        try:
            arguments = arguments_jsonable(bound, redact=self._redact, max_chars=max_chars)
            text = encode(arguments)
            self.span.set_attribute(_attrs.INPUT, text)
            kind = self.spec.kind
            if kind is SpanKind.TOOL:
                self.span.set_attribute(_attrs.TOOL_CALL_ARGUMENTS, text)
            elif kind is SpanKind.RETRIEVER:
                query = next((v for v in arguments.values() if isinstance(v, str)), None)
                if query is not None:
                    self.span.set_attribute(_attrs.RETRIEVAL_QUERY_TEXT, query)
            elif kind in (SpanKind.CHAT, SpanKind.LLM):
                name = next((n for n in _MESSAGE_ARGUMENTS if n in arguments), None)
                if name is not None:
                    SpanHandle(self.span).set_input_messages(arguments[name])
        except Exception:
            logger.warning("tracepond: instrumentation error in _record_inputs", exc_info=True)

    def _record_output(self, result: Any) -> None:
        try:
            text = None
            if not self._redact:
                text = flat_json(result, self._max_chars)
            if text is None:
                text = encode(self._redacted(result))
            self.span.set_attribute(_attrs.OUTPUT, text)
            kind = self.spec.kind
            if kind is SpanKind.TOOL:
                SpanHandle(self.span).set_tool_result(self._redacted(result))
            elif kind is SpanKind.RETRIEVER and isinstance(result, list | tuple):
                SpanHandle(self.span).set_retrieval(documents=result)
            elif kind in (SpanKind.CHAT, SpanKind.LLM) and result is not None:
                SpanHandle(self.span).set_output_messages(_as_assistant(result))
        except Exception:
            logger.warning("tracepond: instrumentation error in _record_output", exc_info=True)

    def _redacted(self, value: Any) -> Any:
        if not self._redact:
            return value
        max_chars = _runtime.settings().max_value_size
        return to_jsonable(value, redact=self._redact, max_chars=max_chars)

    def begin_stream(self) -> None:
        """Called by the generator wrappers once the span started: the clock of the time to
        first chunk starts here."""
        self._stream = Stream(
            capture=self._capture and self.spec.capture_output,
            join_text=self.spec.kind in _MODEL_KINDS,
            max_chars=self._max_chars,
            redact=self._redact,
        )

    @swallow
    def record_yield(self, item: Any) -> None:
        stream = self._stream
        if stream is None:
            return
        seconds = stream.add(item)
        if seconds is not None:
            self._record_first_chunk(seconds)

    def _record_first_chunk(self, seconds: float) -> None:
        """The attribute and event the LangChain handler records for a streaming model run."""
        self.span.set_attribute(_attrs.TIME_TO_FIRST_CHUNK, seconds)
        self.span.add_event(_attrs.FIRST_TOKEN_EVENT, {_attrs.TIME_TO_FIRST_CHUNK: seconds})
        if self.spec.kind in _MODEL_KINDS:
            self.span.set_attribute(_attrs.REQUEST_STREAM, True)

    def succeed(self, result: Any) -> None:
        if self._capture and self.spec.capture_output:
            self._record_output(result)
        try:
            self.span.end()
        except Exception:
            logger.warning("tracepond: could not end span", exc_info=True)

    def fail(self, error: BaseException) -> None:
        swallow(record_error)(self.span, error)
        end(self.span)

    def finish_generator(self, *, closed_early: bool = False) -> None:
        swallow(self._record_streamed)()
        if closed_early:
            swallow(self.span.set_attribute)(_attrs.CLOSED_EARLY, True)
        end(self.span)

    def fail_generator(self, error: BaseException) -> None:
        """A stream that broke off still shows what it streamed before the error."""
        swallow(self._record_streamed)()
        self.fail(error)

    def _record_streamed(self) -> None:
        stream = self._stream
        if stream is None:
            return
        self.span.set_attribute(_attrs.YIELD_COUNT, stream.count)
        if not (self._capture and self.spec.capture_output):
            return
        if not stream.is_text:
            self.span.set_attribute(_attrs.OUTPUT, encode(stream.items))
            return
        self.span.set_attribute(_attrs.OUTPUT, stream.text_json())
        if self.spec.kind in _MODEL_KINDS:  # the reply, as a model step's output messages
            self.span.set_attribute(_attrs.OUTPUT_MESSAGES, stream.text_json(_as_assistant))


def bind_arguments(spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments by parameter name, defaults applied, `self`/`cls` dropped."""
    names = spec.positional
    if names is not None and spec.defaults is not None:
        if not kwargs and not spec.skip_first and spec.required <= len(args) <= len(names):
            arguments = dict(zip(names, args, strict=False))  # the commonest call of all
            if len(args) < len(names):
                arguments.update(spec.trailing[len(args) - spec.required :])
            return arguments
        fast = _bind_plain(names, spec.defaults, args, kwargs)
        if fast is not None:
            if spec.skip_first and fast:
                fast.pop(next(iter(fast)))
            return fast
    if spec.signature is None:
        return {"args": list(args), "kwargs": kwargs}
    try:
        bound = spec.signature.bind(*args, **kwargs)
    except TypeError:  # the call itself is wrong; the function will raise, not us
        return {"args": list(args), "kwargs": kwargs}
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    if spec.skip_first and arguments:
        arguments.pop(next(iter(arguments)))
    return arguments


def _bind_plain(
    names: tuple[str, ...],
    defaults: Mapping[str, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> dict[str, Any] | None:
    """inspect.Signature.bind is slow; plain signatures bind by zipping. None = not plain."""
    given = len(args)
    if given > len(names):
        return None
    if not kwargs:  # the common call: positional arguments, defaults for the rest
        arguments = dict(zip(names, args, strict=False))
        for name in names[given:]:
            if name not in defaults:
                return None
            arguments[name] = defaults[name]
        return arguments
    arguments = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in defaults and key not in names[len(args) :]:
            return None
        arguments[key] = value
    for name in names[len(args) :]:
        if name not in arguments:
            if name not in defaults:
                return None
            arguments[name] = defaults[name]
    return {name: arguments[name] for name in names}


def _as_assistant(result: Any) -> Any:
    """A plain string returned by an LLM step is the assistant's message."""
    if isinstance(result, str):
        return [{"role": "assistant", "parts": [{"type": "text", "content": result}]}]
    return result
