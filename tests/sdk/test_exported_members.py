"""Pin the public API, and keep `import tracepond` free of server code."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import tracepond
import tracepond.langchain

SRC = str(Path(tracepond.__file__).resolve().parents[1])


def test_all_exports() -> None:
    assert tracepond.__all__ == [
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
    for name in tracepond.__all__:
        assert hasattr(tracepond, name), name


def test_langchain_exports() -> None:
    assert tracepond.langchain.__all__ == [
        "TracepondCallbackHandler",
        "instrument",
        "is_instrumented",
        "uninstrument",
    ]


def test_span_kinds() -> None:
    assert [k.value for k in tracepond.SpanKind] == [
        "llm",
        "chat",
        "embedding",
        "retriever",
        "reranker",
        "tool",
        "agent",
        "chain",
        "guardrail",
        "evaluator",
        "unknown",
    ]


def test_import_loads_no_server_or_optional_code() -> None:
    code = (
        "import sys, tracepond\n"
        "heavy = ('duckdb', 'grpc', 'fastapi', 'uvicorn', 'pyarrow', 'langchain_core', 'numpy',"
        " 'tracepond.store', 'tracepond.ingest', 'tracepond.api', 'tracepond.query',"
        # tracepond.Client is standard library only: no HTTP library, no DataFrame library.
        " 'requests', 'urllib3', 'httpx', 'aiohttp', 'pandas', 'polars')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC},
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_no_submodule_shadows_a_public_name() -> None:
    # Importing a submodule binds it as an attribute of the package: a module named like a
    # public function (``tracepond/settings.py``) replaced ``tracepond.settings()`` for every
    # caller once anything had imported it.
    modules = {module.name for module in pkgutil.iter_modules(tracepond.__path__)}
    assert modules.isdisjoint(tracepond.__all__), modules & set(tracepond.__all__)
    code = (
        "import pkgutil, importlib, tracepond\n"
        "for m in pkgutil.iter_modules(tracepond.__path__):\n"
        "    importlib.import_module('tracepond.' + m.name)\n"
        "assert callable(tracepond.settings), tracepond.settings\n"
        "assert tracepond.Settings.__module__.startswith('tracepond.sdk')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"PYTHONPATH": SRC})


def test_one_class_per_settings_name() -> None:
    from tracepond.server_settings import ServerSettings

    assert ServerSettings is not tracepond.Settings
    assert ServerSettings.__name__ != tracepond.Settings.__name__
