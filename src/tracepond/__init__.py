"""tracepond: OpenTelemetry-native tracing for LLM agents and RAG pipelines.

`import tracepond` loads only the SDK (OpenTelemetry API/SDK and the OTLP exporter): the
server lives in subpackages that are imported only by `tracepond serve`.

The public names are loaded on first use (PEP 562), so that the server and its decode worker
processes, which import `tracepond.<subpackage>` and never the SDK, do not pay for it at start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tracepond._version import __version__

if TYPE_CHECKING:
    from tracepond._launch import LocalServer, launch
    from tracepond.client import APIError, Client
    from tracepond.sdk import (
        Settings,
        SpanHandle,
        SpanKind,
        context,
        current_span,
        flush,
        init,
        settings,
        shutdown,
        span,
        trace,
    )

__all__ = [
    "APIError",
    "Client",
    "LocalServer",
    "Settings",
    "SpanHandle",
    "SpanKind",
    "__version__",
    "context",
    "current_span",
    "flush",
    "init",
    "launch",
    "settings",
    "shutdown",
    "span",
    "trace",
]

# public name -> the module that defines it
_NOT_SDK = {
    "APIError": "tracepond.client",
    "Client": "tracepond.client",
    "LocalServer": "tracepond._launch",
    "launch": "tracepond._launch",
}
_LAZY = {
    **_NOT_SDK,
    **{name: "tracepond.sdk" for name in __all__ if name not in (*_NOT_SDK, "__version__")},
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tracepond' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
