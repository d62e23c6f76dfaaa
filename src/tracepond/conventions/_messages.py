"""Message shapes -> the one unified message shape.

Unified message: ``{"role": str | None, "parts": [part, ...]}`` plus ``"name"`` and
``"finish_reason"`` when known. Parts follow the OTel GenAI JSON schema:
``{"type": "text", "content"}``, ``{"type": "reasoning", "content"}``,
``{"type": "tool_call", "id", "name", "arguments"}``, ``{"type": "tool_call_response", "id",
"response"}``; any other part type is kept as given. ``arguments`` is decoded when it is JSON text.

Accepted inputs: OTel GenAI parts messages, OpenAI chat messages (string or content-block
``content``, ``tool_calls``, ``tool_call_id``), Anthropic content blocks (``tool_use``,
``tool_result``), LangChain messages (``type: human|ai``, serialized ``lc`` constructors, and
``{"type", "data"}`` dumps).
"""

from __future__ import annotations

from typing import Any

from tracepond.conventions._coerce import REDACTED_LENGTHS, is_redacted, jsonish, to_str
from tracepond.conventions._model import Message
from tracepond.conventions._tables import ROLE_ALIASES

Part = dict[str, Any]
_CANONICAL_ROLES = frozenset({"system", "user", "assistant", "tool"})


def messages(value: Any) -> list[Message] | None:
    """A list of unified messages from a list of message-like objects; None if none are."""
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        found = message(item)
        if found is not None:
            out.append(found)
    return out or None


def message(value: Any) -> Message | None:
    if type(value) is not dict:  # exact dicts (all parsed JSON) skip the checks below
        if isinstance(value, str):
            return {"role": None, "parts": [text_part(value)]}
        if not isinstance(value, dict):
            return None
    if "kwargs" in value or "data" in value:
        value = _unwrap_langchain(value)
    if "parts" in value:
        parts = _parts(value["parts"])
    else:
        parts = _content_parts(value.get("content"))
        if value.get("tool_calls") is not None:
            parts.extend(_tool_calls(value["tool_calls"]))
        if value.get("tool_call_id") is not None:
            call_id = to_str(value["tool_call_id"])
            if call_id is not None:
                parts = _as_tool_response(parts, call_id)
    role = value.get("role")
    if type(role) is not str or role not in _CANONICAL_ROLES:  # else role_of(value) is role
        role = role_of(value)
        if not parts and role is None:
            return None
    out: Message = {"role": role, "parts": parts}
    # Optional text fields, copied when they read as text.
    name = value.get("name")
    if name is not None:
        name = to_str(name)
        if name is not None:
            out["name"] = name
    reason = value.get("finish_reason")
    if reason is not None:
        reason = to_str(reason)
        if reason is not None:
            out["finish_reason"] = reason
    return out


def role_of(value: dict[str, Any]) -> str | None:
    role = value.get("role")
    if type(role) is str and role in _CANONICAL_ROLES:
        return role
    role = to_str(role) or to_str(value.get("type"))
    if role is None:
        return None
    lowered = role.lower()
    return ROLE_ALIASES.get(lowered, lowered)


def text_part(content: Any) -> Part:
    if is_redacted(content):
        return {"type": "text", "content": None, "redacted": True}
    return {"type": "text", "content": content}


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> Part:
    return {
        "type": "tool_call",
        "id": to_str(call_id),
        "name": to_str(name),
        "arguments": jsonish(arguments),
    }


def system_message(instructions: Any) -> Message | None:
    """``gen_ai.system_instructions`` (a bare part list, or text) as a system message."""
    parts = _parts(instructions) if isinstance(instructions, list) else _content_parts(instructions)
    return {"role": "system", "parts": parts} if parts else None


def _unwrap_langchain(value: dict[str, Any]) -> dict[str, Any]:
    kwargs = value.get("kwargs")
    if value.get("lc") is not None and isinstance(kwargs, dict):
        ident = value.get("id")
        kind = ident[-1] if isinstance(ident, list) and ident else None
        return {"type": kind, **kwargs}
    data = value.get("data")
    if isinstance(data, dict) and "type" in value and "content" in data:
        return {**data, "type": value["type"]}
    return value


def _parts(value: Any) -> list[Part]:
    if isinstance(value, str):
        return [text_part(value)]
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        # Text parts are the common case: built inline, as _part would.
        if type(item) is dict and item.get("type") == "text":
            text = item["content"] if "content" in item else item.get("text")
            if type(text) is str and len(text) not in REDACTED_LENGTHS:  # else: text_part
                out.append({"type": "text", "content": text})
            else:
                out.append(text_part(text))
        else:
            part = _part(item)
            if part is not None:
                out.append(part)
    return out


def _part(value: Any) -> Part | None:
    if isinstance(value, str):
        return text_part(value)
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "text":
        return text_part(value.get("content", value.get("text")))
    if kind in ("tool_call", "function_call", "tool_use"):
        args = value.get("arguments", value.get("input", value.get("args")))
        return tool_call_part(value.get("id"), value.get("name"), args)
    if kind in ("tool_call_response", "tool_result"):
        call_id = value.get("id", value.get("tool_use_id"))
        # The JSON schema says ``response``; the registry example says ``result`` (pitfall 10).
        response = value.get("response", value.get("result", value.get("content")))
        return {"type": "tool_call_response", "id": to_str(call_id), "response": response}
    if kind in ("reasoning", "thinking"):
        return {"type": "reasoning", "content": value.get("content", value.get("thinking"))}
    return dict(value)


def _content_parts(content: Any) -> list[Part]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        decoded = jsonish(content) if content[:1] == "[" else content
        return _parts(decoded) if isinstance(decoded, list) else [text_part(content)]
    if isinstance(content, list):
        return _parts(content)
    return [text_part(content)] if isinstance(content, (int, float)) else []


def _tool_calls(value: Any) -> list[Part]:
    value = jsonish(value)
    if not isinstance(value, list):
        return []
    out = []
    for call in value:
        if not isinstance(call, dict):
            continue
        function = call.get("function")
        source = function if isinstance(function, dict) else call
        args = source.get("arguments", source.get("args"))
        out.append(tool_call_part(call.get("id"), source.get("name"), args))
    return out


def _as_tool_response(parts: list[Part], call_id: str) -> list[Part]:
    """A tool-role message's content is the response to ``call_id``."""
    texts = [part.get("content") for part in parts if part.get("type") == "text"]
    response: Any = texts[0] if len(texts) == 1 else texts or None
    rest = [part for part in parts if part.get("type") != "text"]
    return [{"type": "tool_call_response", "id": call_id, "response": response}, *rest]
