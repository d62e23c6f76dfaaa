"""The current span, read and set through OpenTelemetry's context variable directly.

`opentelemetry.context` reaches its context variable through four or five Python calls per
attach, detach or lookup, plus an `isinstance` check against the Span ABC on every lookup; for
`@trace` that was a tenth of a decorated call. With OTel's default runtime context (a
`ContextVar` holding an immutable `Context` dict, the only one the SDK ships), these helpers do
the same reads and writes on that variable in one step. Any other runtime context (set through
`OTEL_PYTHON_CONTEXT`) goes through OTel's API as before.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.trace import Span

try:
    from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
    from opentelemetry.trace.propagation import _SPAN_KEY
except ImportError:  # a future OTel without them: the API path below
    ContextVarsRuntimeContext = None  # type: ignore[assignment,misc]
    _SPAN_KEY = ""


def _context_variable() -> ContextVar[Context] | None:
    runtime = getattr(otel_context, "_RUNTIME_CONTEXT", None)
    if ContextVarsRuntimeContext is None or type(runtime) is not ContextVarsRuntimeContext:
        return None
    variable = getattr(runtime, "_current_context", None)
    return variable if isinstance(variable, ContextVar) else None


_variable = _context_variable()


def attach(span: Span) -> Token[Context]:
    """Make `span` current; returns the token for `detach` (as `context.attach` does)."""
    variable = _variable
    if variable is None:
        return otel_context.attach(otel_trace.set_span_in_context(span))
    values = variable.get().copy()
    values[_SPAN_KEY] = span
    return variable.set(Context(values))


def detach(token: Token[Context]) -> None:
    """Restore the context from before `attach`. Raises what the context variable raises
    (a token from another context), as `ContextVar.reset` does; callers log it."""
    variable = _variable
    if variable is None:
        otel_context.detach(token)  # OTel's: logs, never raises
        return
    variable.reset(token)


def span_of(context: Context | None) -> Any:
    """The span stored in `context` (the current context when None); None when there is
    none. Unlike `trace.get_current_span`, no isinstance check: callers read only
    `get_span_context()` from it and treat any error as "no usable parent"."""
    if _variable is None:
        span = otel_trace.get_current_span(context)
        return None if span is otel_trace.INVALID_SPAN else span
    if context is None:
        context = _variable.get()
    return context.get(_SPAN_KEY)
