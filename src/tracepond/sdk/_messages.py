"""Convert messages and documents to the GenAI JSON shapes.

Messages become `[{"role", "parts": [...], "name"?, "finish_reason"?}]` (the GenAI
input/output message schema); documents become `{"id", "content", "score", "metadata"}`.
Inputs may be GenAI-shaped dicts, OpenAI-style dicts, LangChain messages/documents (duck-typed,
so langchain is not imported) or plain strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# LangChain message `type` -> GenAI role (streamed chunks have their own types).
_ROLES = {
    "human": "user",
    "ai": "assistant",
    "system": "system",
    "tool": "tool",
    "HumanMessageChunk": "user",
    "AIMessageChunk": "assistant",
    "SystemMessageChunk": "system",
    "ToolMessageChunk": "tool",
}


def to_genai_messages(messages: Any) -> list[dict[str, Any]]:
    if isinstance(messages, str | Mapping) or not isinstance(messages, Iterable):
        messages = [messages]
    return [to_genai_message(message) for message in messages]


def to_genai_message(message: Any) -> dict[str, Any]:
    if isinstance(message, str):
        return {"role": "user", "parts": [_text(message)]}
    if isinstance(message, Mapping):
        return _from_mapping(message)
    if hasattr(message, "content") and hasattr(message, "type"):
        return _from_langchain(message)
    return {"role": "user", "parts": [_text(str(message))]}


def _from_mapping(message: Mapping[str, Any]) -> dict[str, Any]:
    if "parts" in message:
        return dict(message)
    role = str(message.get("role", "user"))
    if role == "tool":
        return _tool_response(message.get("tool_call_id"), message.get("content"))
    parts = _content_parts(message.get("content"))
    parts += [_tool_call_part(call) for call in message.get("tool_calls") or ()]
    out: dict[str, Any] = {"role": _ROLES.get(role, role), "parts": parts}
    if message.get("name"):
        out["name"] = message["name"]
    return out


def _from_langchain(message: Any) -> dict[str, Any]:
    role = _ROLES.get(str(message.type), str(getattr(message, "role", message.type)))
    if role == "tool":
        return _tool_response(getattr(message, "tool_call_id", None), message.content)
    parts = _content_parts(message.content)
    parts += [_tool_call_part(call) for call in getattr(message, "tool_calls", None) or ()]
    out: dict[str, Any] = {"role": role, "parts": parts}
    if getattr(message, "name", None):
        out["name"] = message.name
    return out


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [_text(content)]
    if isinstance(content, list):
        return [_block_part(block) for block in content]
    return [_text(str(content))]


def _block_part(block: Any) -> dict[str, Any]:
    if isinstance(block, str):
        return _text(block)
    if not isinstance(block, Mapping):
        return _text(str(block))
    kind = block.get("type")
    if kind == "text":
        return _text(str(block.get("text", block.get("content", ""))))
    if kind in ("reasoning", "thinking"):
        return {"type": "reasoning", "content": block.get("reasoning", block.get("thinking"))}
    if kind == "image_url":
        url = block.get("image_url")
        url = url.get("url") if isinstance(url, Mapping) else url
        return {"type": "uri", "modality": "image", "uri": url}
    return dict(block)  # any other part type is allowed as is by the schema


def _tool_call_part(call: Any) -> dict[str, Any]:
    if not isinstance(call, Mapping):
        return {"type": "tool_call", "name": str(call)}
    function = call.get("function")
    if isinstance(function, Mapping):  # OpenAI style
        name, arguments = function.get("name"), _maybe_json(function.get("arguments"))
    else:  # LangChain style
        name, arguments = call.get("name"), call.get("args", call.get("arguments"))
    part: dict[str, Any] = {"type": "tool_call", "name": name, "arguments": arguments}
    if call.get("id"):
        part["id"] = call["id"]
    return part


def _tool_response(call_id: Any, content: Any) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "tool_call_response", "response": content}
    if call_id:
        part["id"] = call_id
    return {"role": "tool", "parts": [part]}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "content": text}


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def to_genai_documents(documents: Iterable[Any]) -> list[dict[str, Any]]:
    return [to_genai_document(document) for document in documents]


def to_genai_document(document: Any) -> dict[str, Any]:
    score: Any = None
    if isinstance(document, tuple) and len(document) == 2:  # (doc, score) from *_with_score
        document, score = document
    if isinstance(document, str):
        return {"id": None, "content": document, "score": score, "metadata": {}}
    if isinstance(document, Mapping):
        content = document.get("content", document.get("page_content", document.get("text")))
        metadata = document.get("metadata") or {}
        doc_id, score = document.get("id"), document.get("score", score)
    else:
        content = getattr(document, "page_content", None)
        metadata = getattr(document, "metadata", None) or {}
        doc_id = getattr(document, "id", None)
        if content is None:
            content = str(document)
    if score is None and isinstance(metadata, Mapping):
        score = metadata.get("score", metadata.get("relevance_score"))
    return {"id": doc_id, "content": content, "score": score, "metadata": metadata}
