"""`@trace`: one span per call of a function, coroutine, generator or async generator."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Collection, Generator, Mapping
from typing import Any, TypeVar, overload

from opentelemetry.util.types import AttributeValue

from tracepond.sdk._current import attach as attach_current
from tracepond.sdk._current import detach as detach_current
from tracepond.sdk._kinds import SpanKind, coerce_kind
from tracepond.sdk._run import Run, Spec
from tracepond.sdk._span import attach, detach

logger = logging.getLogger("tracepond")

F = TypeVar("F")


@overload
def trace(func: F, /) -> F: ...


@overload
def trace(
    *,
    name: str | None = None,
    kind: SpanKind | str = SpanKind.UNKNOWN,
    attributes: Mapping[str, AttributeValue] | None = None,
    capture: bool = True,
    capture_input: bool | None = None,
    capture_output: bool | None = None,
    redact: Collection[str] = (),
) -> Callable[[F], F]: ...


def trace(
    func: Any = None,
    /,
    *,
    name: str | None = None,
    kind: SpanKind | str = SpanKind.UNKNOWN,
    attributes: Mapping[str, AttributeValue] | None = None,
    capture: bool = True,
    capture_input: bool | None = None,
    capture_output: bool | None = None,
    redact: Collection[str] = (),
) -> Any:
    """Trace every call of the decorated callable, as `@trace` or `@trace(...)`.

    `name` defaults to the function's qualified name; `kind` is a SpanKind or its value;
    `attributes` are added to every span; `capture=False` (or `capture_input`/`capture_output`)
    keeps arguments/results out of the span; `redact` names keys and arguments whose values
    are replaced by "[REDACTED]".
    """

    def decorate(target: Any) -> Any:
        if isinstance(target, staticmethod | classmethod):
            return type(target)(decorate(target.__func__))
        spec = Spec(
            name=name or getattr(target, "__qualname__", None) or repr(target),
            kind=coerce_kind(kind),
            attributes=dict(attributes or {}),
            capture_input=capture if capture_input is None else capture_input,
            capture_output=capture if capture_output is None else capture_output,
            redact=frozenset(key.lower() for key in redact),
            signature=_signature(target),
            skip_first=_first_is_receiver(target),
            **_plain_signature(target),
        )
        return _wrap(target, spec)

    return decorate if func is None else decorate(func)


def _signature(target: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):  # some builtins have none; record positional args then
        return None


def _plain_signature(target: Callable[..., Any]) -> dict[str, Any]:
    """Names and defaults when every parameter is positional-or-keyword."""
    signature = _signature(target)
    if signature is None:
        return {}
    params = list(signature.parameters.values())
    if any(p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params):
        return {}
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}
    return {"positional": tuple(p.name for p in params), "defaults": defaults}


def _first_is_receiver(target: Callable[..., Any]) -> bool:
    signature = _signature(target)
    if signature is None or not signature.parameters:
        return False
    return next(iter(signature.parameters)) in ("self", "cls")


def _wrap(target: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    if inspect.isasyncgenfunction(target):
        return _wrap_async_generator(target, spec)
    if inspect.isgeneratorfunction(target):
        return _wrap_generator(target, spec)
    if inspect.iscoroutinefunction(target):
        return _wrap_coroutine(target, spec)
    return _wrap_function(target, spec)


def _wrap_function(func: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Any:
        # The hot path of @trace: attach/detach inlined (each call level costs here).
        run = Run(spec, args, kwargs)
        token = attach_current(run.span)
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            run.fail(error)
            raise
        finally:
            try:
                detach_current(token)
            except Exception:
                logger.debug("tracepond: context detach failed", exc_info=True)
        run.succeed(result)
        return result

    return traced


def _wrap_coroutine(func: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    @functools.wraps(func)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        run = Run(spec, args, kwargs)
        token = attach(run.span)
        try:
            result = await func(*args, **kwargs)
        except BaseException as error:
            run.fail(error)
            raise
        finally:
            detach(token)
        run.succeed(result)
        return result

    return traced


def _wrap_generator(func: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    """The span starts at the first `next()` and is current only while the body runs.

    The context is attached around each resume of the inner generator and detached before
    yielding to the consumer, so the consumer's own spans never nest under it. Closing the
    wrapper (break, `close()`, garbage collection) closes the inner generator and ends the span.
    """

    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        run = Run(spec, args, kwargs)
        try:
            inner: Generator[Any, Any, Any] = func(*args, **kwargs)
        except BaseException as error:
            run.fail(error)
            raise
        run.begin_stream()
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            try:
                item = _resume(run, _step(inner, to_send, to_throw))
            except StopIteration as stop:
                run.finish_generator()
                return stop.value
            except BaseException as error:
                run.fail_generator(error)
                raise
            run.record_yield(item)
            try:
                to_send, to_throw = (yield item), None
            except GeneratorExit:
                try:
                    _resume(run, inner.close)
                finally:
                    run.finish_generator(closed_early=True)
                raise
            except BaseException as error:  # thrown in by the consumer: hand it to the body
                to_send, to_throw = None, error

    return traced


def _step(
    inner: Generator[Any, Any, Any], to_send: Any, to_throw: BaseException | None
) -> Callable[[], Any]:
    if to_throw is not None:
        return lambda: inner.throw(to_throw)
    return lambda: inner.send(to_send)


def _resume(run: Run, step: Callable[[], Any]) -> Any:
    token = attach(run.span)
    try:
        return step()
    finally:
        detach(token)


def _wrap_async_generator(func: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    """Async twin of `_wrap_generator` (`aclose()` and loop finalization end the span)."""

    @functools.wraps(func)
    async def traced(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        run = Run(spec, args, kwargs)
        try:
            inner: AsyncGenerator[Any, Any] = func(*args, **kwargs)
        except BaseException as error:
            run.fail(error)
            raise
        run.begin_stream()
        to_send: Any = None
        to_throw: BaseException | None = None
        while True:
            token = attach(run.span)
            try:
                if to_throw is not None:
                    item = await inner.athrow(to_throw)
                else:
                    item = await inner.asend(to_send)
            except StopAsyncIteration:
                run.finish_generator()
                return
            except BaseException as error:
                run.fail_generator(error)
                raise
            finally:
                detach(token)
            run.record_yield(item)
            try:
                to_send, to_throw = (yield item), None
            except GeneratorExit:
                token = attach(run.span)
                try:
                    await inner.aclose()
                finally:
                    detach(token)
                    run.finish_generator(closed_early=True)
                raise
            except BaseException as error:
                to_send, to_throw = None, error

    return traced
