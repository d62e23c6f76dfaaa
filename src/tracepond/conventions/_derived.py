"""Messages found inside a span's plain input/output, for LLM spans that carry no message
attributes (MLflow ``spanInputs``/``spanOutputs``, LangSmith ``gen_ai.prompt``/``completion``,
Langfuse ``observation.input``/``output``, OpenLLMetry entity I/O).

Recognised shapes: ``{"messages": [...]}`` (also LangChain's batched ``[[...]]``),
``{"prompts": [...]}``, a bare message list, OpenAI ``{"choices": [...]}``, LangChain
``{"generations": [[...]]}``, a single message object, and plain text output.
"""

from __future__ import annotations

from typing import Any

from tracepond.conventions._coerce import to_str
from tracepond.conventions._messages import message, messages, role_of, text_part
from tracepond.conventions._model import Message

_MESSAGE_TYPES = frozenset({"human", "ai", "system", "tool", "user", "assistant", "chat"})


def messages_in_input(value: Any) -> list[Message] | None:
    if isinstance(value, dict):
        inner = value.get("messages", value.get("input"))
        if isinstance(inner, list) and inner and isinstance(inner[0], list):
            inner = inner[0]  # LangChain chat models receive a batch of conversations
        if isinstance(inner, list) and _all_messages(inner):
            return messages(inner)
        prompts = value.get("prompts", value.get("prompt"))
        if isinstance(prompts, str):
            prompts = [prompts]
        if isinstance(prompts, list) and prompts and all(isinstance(p, str) for p in prompts):
            return [{"role": "user", "parts": [text_part(p)]} for p in prompts]
        return None
    if isinstance(value, list) and _all_messages(value):
        return messages(value)
    return None


def messages_in_output(value: Any) -> list[Message] | None:
    if isinstance(value, str):
        return [{"role": "assistant", "parts": [text_part(value)]}] if value else None
    if isinstance(value, list):
        return messages(value) if _all_messages(value) else None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("choices"), list):
        return _choices(value["choices"])
    if isinstance(value.get("generations"), list):
        return _generations(value["generations"])
    if isinstance(value.get("message"), dict):
        return messages([value["message"]])
    if _is_message(value):
        return _assistant(message(value), value.get("stop_reason"))
    return None


def _choices(choices: list[Any]) -> list[Message] | None:
    out = []
    for choice in choices:
        if not isinstance(choice, dict):
            continue
        inner = choice.get("message", choice.get("delta"))
        built = message(inner) if isinstance(inner, dict) else _text(choice.get("text"))
        out.extend(_assistant(built, choice.get("finish_reason")) or [])
    return out or None


def _generations(generations: list[Any]) -> list[Message] | None:
    out = []
    flat = generations[0] if generations and isinstance(generations[0], list) else generations
    for generation in flat:
        if not isinstance(generation, dict):
            continue
        inner = generation.get("message")
        built = message(inner) if isinstance(inner, dict) else _text(generation.get("text"))
        info = generation.get("generation_info")
        reason = info.get("finish_reason") if isinstance(info, dict) else None
        out.extend(_assistant(built, reason) or [])
    return out or None


def _assistant(built: Message | None, finish_reason: Any) -> list[Message] | None:
    if built is None:
        return None
    if built.get("role") is None:
        built["role"] = "assistant"
    reason = to_str(finish_reason)
    if reason is not None and "finish_reason" not in built:
        built["finish_reason"] = reason
    return [built]


def _text(value: Any) -> Message | None:
    return {"role": "assistant", "parts": [text_part(value)]} if isinstance(value, str) else None


def _is_message(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if "role" in value or "parts" in value or "lc" in value:
        return True
    return role_of(value) in _MESSAGE_TYPES and ("content" in value or "data" in value)


def _all_messages(values: list[Any]) -> bool:
    return bool(values) and all(_is_message(item) for item in values)
