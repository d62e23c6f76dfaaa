"""One execution of a traced function: its span plus what to capture into it.

Every method is guarded: whatever goes wrong while recording is logged, never raised, so the
decorated function behaves exactly as if it were not decorated.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from tracepond.sdk import _attrs, _runtime
from tracepond.sdk._guard import swallow
from tracepond.sdk._handle import SpanHandle, encode, record_error
from tracepond.sdk._kinds import SpanKind
from tracepond.sdk._serialize import arguments_jsonable, to_jsonable
from tracepond.sdk._span import end, start_span

# A traced generator keeps at most this many yielded items as its output (it counts them all).
MAX_YIELDED_ITEMS = 100
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


class Run:
    __slots__ = ("_capture", "_redact", "_yielded", "_yielded_count", "span", "spec")

    def __init__(self, spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.spec = spec
        self.span: Span = start_span(spec.name, spec.kind, spec.attributes)
        settings = _runtime.settings()
        # Serializing costs far more than the span; skip it when nobody records the span.
        self._capture = settings.capture_content and self.span.is_recording()
        self._redact = spec.redact | settings.redact
        self._yielded: list[Any] = []
        self._yielded_count = 0
        if self._capture and spec.capture_input:
            self._record_inputs(args, kwargs)

    @swallow
    def _record_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        max_chars = _runtime.settings().max_value_size
        arguments = arguments_jsonable(
            bind_arguments(self.spec, args, kwargs), redact=self._redact, max_chars=max_chars
        )
        text = encode(arguments)
        self.span.set_attribute(_attrs.INPUT, text)
        handle = SpanHandle(self.span)
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
                handle.set_input_messages(arguments[name])

    @swallow
    def _record_output(self, result: Any) -> None:
        self.span.set_attribute(_attrs.OUTPUT, encode(self._redacted(result)))
        handle = SpanHandle(self.span)
        kind = self.spec.kind
        if kind is SpanKind.TOOL:
            handle.set_tool_result(self._redacted(result))
        elif kind is SpanKind.RETRIEVER and isinstance(result, list | tuple):
            handle.set_retrieval(documents=result)
        elif kind in (SpanKind.CHAT, SpanKind.LLM) and result is not None:
            handle.set_output_messages(_as_assistant(result))

    def _redacted(self, value: Any) -> Any:
        if not self._redact:
            return value
        max_chars = _runtime.settings().max_value_size
        return to_jsonable(value, redact=self._redact, max_chars=max_chars)

    @swallow
    def record_yield(self, item: Any) -> None:
        self._yielded_count += 1
        keep = self._capture and self.spec.capture_output
        if keep and len(self._yielded) < MAX_YIELDED_ITEMS:
            max_chars = _runtime.settings().max_value_size
            self._yielded.append(to_jsonable(item, redact=self._redact, max_chars=max_chars))

    def succeed(self, result: Any) -> None:
        if self._capture and self.spec.capture_output:
            self._record_output(result)
        end(self.span)

    def fail(self, error: BaseException) -> None:
        swallow(record_error)(self.span, error)
        end(self.span)

    def finish_generator(self, *, closed_early: bool = False) -> None:
        swallow(self.span.set_attribute)(_attrs.YIELD_COUNT, self._yielded_count)
        if closed_early:
            swallow(self.span.set_attribute)(_attrs.CLOSED_EARLY, True)
        if self._capture and self.spec.capture_output:
            swallow(self.span.set_attribute)(_attrs.OUTPUT, encode(self._yielded))
        end(self.span)

    def fail_generator(self, error: BaseException) -> None:
        swallow(self.span.set_attribute)(_attrs.YIELD_COUNT, self._yielded_count)
        self.fail(error)


def bind_arguments(spec: Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Arguments by parameter name, defaults applied, `self`/`cls` dropped."""
    if spec.positional is not None and spec.defaults is not None:
        fast = _bind_plain(spec.positional, spec.defaults, args, kwargs)
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
    if len(args) > len(names):
        return None
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
