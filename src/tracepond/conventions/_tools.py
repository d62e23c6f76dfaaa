"""Tool-call arguments and results, unwrapped from producer envelopes (pitfall 11).

OpenLLMetry decorators send ``{"args": [...], "kwargs": {...}}``; its LangChain instrumentation
sends ``{"input_str", "tags", "metadata", "inputs", "kwargs"}`` and ``{"output", "kwargs"}``.
The unwrapped value is the call's own arguments/result; anything else is kept as given.
"""

from __future__ import annotations

from typing import Any

from tracepond.conventions._coerce import jsonish

_SPAN_PREFIXES = ("execute_tool ",)
_SPAN_SUFFIXES = (".tool",)


def tool_arguments(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "input_str" in value and ("inputs" in value or "kwargs" in value):
        inputs = value.get("inputs")
        return inputs if inputs else jsonish(value.get("input_str"))
    if set(value) == {"args", "kwargs"} and not value["args"]:
        return value["kwargs"]
    return value


def tool_result(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"output", "kwargs"}:
        return jsonish(value["output"])
    return value


def tool_name_from_span(name: str) -> str | None:
    for prefix in _SPAN_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :] or None
    for suffix in _SPAN_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] or None
    return name or None
