"""Process-wide state the instrumentation reads on every call: settings and the tracer.

Decorators are applied at import time, before `init()` runs, so they look both up per call.
"""

from __future__ import annotations

from opentelemetry import trace as otel_trace

from tracepond._version import __version__
from tracepond.sdk._config import Settings, resolve

_TRACER_NAME = "tracepond"

_settings: Settings | None = None
_tracer: otel_trace.Tracer | None = None


def settings() -> Settings:
    """The settings in force: those of the last `init()`, else from the environment."""
    global _settings
    if _settings is None:
        _settings = resolve()
    return _settings


def tracer() -> otel_trace.Tracer:
    """The tracer spans are made with; the global provider's until `init()` picks one."""
    global _tracer
    if _tracer is None:
        # A ProxyTracer: it starts delegating as soon as a global provider is set.
        _tracer = otel_trace.get_tracer(_TRACER_NAME, __version__)
    return _tracer


def install(new_settings: Settings, provider: otel_trace.TracerProvider | None) -> None:
    global _settings, _tracer
    _settings = new_settings
    _tracer = provider.get_tracer(_TRACER_NAME, __version__) if provider is not None else None
