"""Read what LangChain hands to callbacks: names, kinds, models, usage, outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracepond.sdk._kinds import SpanKind


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    """`name` kwarg (the runnable's name) > serialized name > last part of the class path."""
    if kwargs.get("name"):
        return str(kwargs["name"])
    if serialized:
        if serialized.get("name"):
            return str(serialized["name"])
        path = serialized.get("id")
        if isinstance(path, list) and path:
            return str(path[-1])
    return "unknown"


def chain_kind(name: str, tags: list[str] | None, metadata: Mapping[str, Any] | None) -> SpanKind:
    """Chains are chains, except runs that declare themselves agents (by name, tag or the
    `tracepond.kind` metadata key, which can set any kind)."""
    declared = (metadata or {}).get("tracepond.kind")
    if isinstance(declared, str):
        try:
            return SpanKind(declared.lower())
        except ValueError:
            pass
    if "agent" in name.lower() or "agent" in (tags or []):
        return SpanKind.AGENT
    return SpanKind.CHAIN


def model_name(
    invocation_params: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None
) -> str | None:
    params = invocation_params or {}
    for key in ("model", "model_name", "model_id", "deployment_name"):
        if params.get(key):
            return str(params[key])
    meta = metadata or {}
    if meta.get("ls_model_name"):
        return str(meta["ls_model_name"])
    return None


def request_parameters(
    invocation_params: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None
) -> dict[str, Any]:
    """GenAI request attributes from invocation params (falling back to `ls_*` metadata)."""
    params = dict(invocation_params or {})
    meta = metadata or {}
    out: dict[str, Any] = {}
    temperature = params.get("temperature", meta.get("ls_temperature"))
    if isinstance(temperature, int | float):
        out["gen_ai.request.temperature"] = float(temperature)
    max_tokens = params.get("max_tokens", meta.get("ls_max_tokens"))
    if isinstance(max_tokens, int):
        out["gen_ai.request.max_tokens"] = max_tokens
    if isinstance(params.get("top_p"), int | float):
        out["gen_ai.request.top_p"] = float(params["top_p"])
    stop = params.get("stop", meta.get("ls_stop"))
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        out["gen_ai.request.stop_sequences"] = stop
    return out


def usage_from_result(response: Any) -> dict[str, int]:
    """Token usage: `usage_metadata` on the message (standard) or `llm_output` (legacy)."""
    for generation in _first_generations(response):
        usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
        if isinstance(usage, Mapping) and usage:
            return _usage_metadata(usage)
    llm_output = getattr(response, "llm_output", None) or {}
    token_usage = llm_output.get("token_usage") or llm_output.get("usage") or {}
    out: dict[str, int] = {}
    for target, keys in (
        ("input", ("prompt_tokens", "input_tokens")),
        ("output", ("completion_tokens", "output_tokens")),
        ("total", ("total_tokens",)),
    ):
        value = next((token_usage[k] for k in keys if isinstance(token_usage.get(k), int)), None)
        if value is not None:
            out[target] = value
    return out


def _usage_metadata(usage: Mapping[str, Any]) -> dict[str, int]:
    out = {
        "input": usage.get("input_tokens"),
        "output": usage.get("output_tokens"),
        "total": usage.get("total_tokens"),
        "cache_read": (usage.get("input_token_details") or {}).get("cache_read"),
        "reasoning": (usage.get("output_token_details") or {}).get("reasoning"),
    }
    return {key: value for key, value in out.items() if isinstance(value, int)}


def output_messages(response: Any) -> list[Any]:
    """The generated messages (chat) or texts (completion) of the first prompt."""
    messages: list[Any] = []
    for generation in _first_generations(response):
        message = getattr(generation, "message", None)
        messages.append(
            message
            if message is not None
            else {"role": "assistant", "content": getattr(generation, "text", "")}
        )
    return messages


def response_details(response: Any) -> tuple[str | None, str | None, str | None]:
    """(response model, response id, finish reason) from generation or message metadata."""
    llm_output = getattr(response, "llm_output", None) or {}
    model = llm_output.get("model_name") or llm_output.get("model")
    response_id = None
    finish = None
    for generation in _first_generations(response):
        info = getattr(generation, "generation_info", None) or {}
        message = getattr(generation, "message", None)
        meta = getattr(message, "response_metadata", None) or {}
        model = model or meta.get("model_name") or meta.get("model")
        response_id = response_id or meta.get("id") or getattr(message, "id", None)
        finish = finish or info.get("finish_reason") or meta.get("finish_reason")
        finish = finish or meta.get("stop_reason")
    return (
        str(model) if model else None,
        str(response_id) if response_id else None,
        str(finish) if finish else None,
    )


def _first_generations(response: Any) -> list[Any]:
    generations = getattr(response, "generations", None) or []
    first = generations[0] if generations else []
    return list(first) if isinstance(first, list) else [first]


def tool_result(output: Any) -> Any:
    """A ToolMessage's content (the tool's return value), else the output itself."""
    if hasattr(output, "content") and getattr(output, "type", None) == "tool":
        artifact = getattr(output, "artifact", None)
        return (
            output.content
            if artifact is None
            else {"content": output.content, "artifact": artifact}
        )
    return output
