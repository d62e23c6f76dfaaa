"""Where input/output messages come from, in precedence order.

1. OpenInference indexed ``llm.input_messages.N.*`` / ``llm.output_messages.N.*`` (OI wins over
   its own optional GenAI dual-write, as in Phoenix);
2. OTel GenAI ``gen_ai.input.messages``/``gen_ai.output.messages`` (+ ``system_instructions``);
3. legacy OpenLLMetry indexed ``gen_ai.prompt.N.*`` / ``gen_ai.completion.N.*``, and the OI
   completions-API ``llm.prompts.N`` / ``llm.choices.N``;
4. span events: the inference details event / Spring AI content events (a whole conversation),
   then the deprecated per-message events (``gen_ai.user.message`` …, ``gen_ai.choice``);
5. for LLM spans only, messages found inside the plain input/output (MLflow spanInputs,
   LangSmith ``gen_ai.prompt``, Langfuse ``observation.input``, OpenAI/LangChain response shapes).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tracepond.conventions._coerce import jsonish, mapping, to_str
from tracepond.conventions._collect import Collected, Indexed
from tracepond.conventions._derived import messages_in_input, messages_in_output
from tracepond.conventions._messages import message, messages, system_message, text_part
from tracepond.conventions._messages import tool_call_part as _tool_call
from tracepond.conventions._model import Message
from tracepond.conventions._tables import (
    CHOICE_EVENT,
    CONVERSATION_EVENTS,
    LEGACY_MESSAGE,
    LEGACY_TOOL_CALL,
    MESSAGE_EVENTS,
    OI_CONTENT_PART,
    OI_MESSAGE,
    OI_TOOL_CALL,
)


def input_messages(found: Collected, events: list[dict[str, Any]]) -> list[Message] | None:
    system = found.get("system_instructions")
    result = None
    if found.family_names:
        result = _family_messages(found, "oi_input_messages", _OI_LAYOUT, _oi_tool_calls)
    if result is None:
        result = messages(found.get("genai_input_messages"))
    if result is None:
        result = _indexed_input(found) or _events_messages(events, output=False)
    if system is not None:
        head = system_message(system)
        if head is not None and not (result and result[0].get("role") == "system"):
            result = [head, *(result or [])]
    return result


def output_messages(found: Collected, events: list[dict[str, Any]]) -> list[Message] | None:
    result = None
    if found.family_names:
        result = _family_messages(found, "oi_output_messages", _OI_LAYOUT, _oi_tool_calls)
    if result is None:
        result = messages(found.get("genai_output_messages"))
    if result is None:
        result = _indexed_output(found) or _events_messages(events, output=True)
    return result


def _family_messages(
    found: Collected, family: str, layout: _Layout, calls: Any
) -> list[Message] | None:
    if family not in found.family_names:
        return None
    rows = found.family(family)
    return None if rows is None else _indexed(rows, layout, calls)


def _indexed_input(found: Collected) -> list[Message] | None:
    if not found.family_names:
        return None
    if rows := found.family("legacy_prompt"):
        return _indexed(rows, _LEGACY_LAYOUT, _legacy_tool_calls)
    if rows := found.family("oi_prompts"):
        return _texts(rows, "prompt.text", "user")
    return None


def _indexed_output(found: Collected) -> list[Message] | None:
    if not found.family_names:
        return None
    if rows := found.family("legacy_completion"):
        return _indexed(rows, _LEGACY_LAYOUT, _legacy_tool_calls)
    if rows := found.family("oi_choices"):
        return _texts(rows, "completion.text", "assistant")
    return None


class _Layout(NamedTuple):
    """How one convention flattens a message: plain suffixes and nested-list prefixes."""

    plain: tuple[tuple[str, str], ...]  # (message field, suffix)
    plain_suffixes: frozenset[str]
    contents: str | None  # prefix of indexed content parts (OpenInference only)
    tool_calls: str


def _layout(names: dict[str, str]) -> _Layout:
    plain = tuple((field, suffix) for field, suffix in names.items() if not suffix.endswith("."))
    return _Layout(
        plain, frozenset(s for _, s in plain), names.get("contents"), names["tool_calls"]
    )


_OI_LAYOUT = _layout(OI_MESSAGE)
_LEGACY_LAYOUT = _layout(LEGACY_MESSAGE)


def _indexed(rows: Indexed, layout: _Layout, calls: Any) -> list[Message] | None:
    out = []
    for index in sorted(rows):
        row = rows[index]
        built = message({field: row.get(suffix) for field, suffix in layout.plain})
        if built is None:
            continue
        # Nested parts/tool calls exist only when the row has keys beyond the plain ones.
        if not row.keys() <= layout.plain_suffixes:
            if layout.contents is not None:
                built["parts"].extend(_oi_contents(_sub_rows(row, layout.contents)))
            built["parts"].extend(calls(_sub_rows(row, layout.tool_calls)))
        out.append(built)
    return out or None


def _sub_rows(row: dict[str, Any], prefix: str) -> Indexed:
    """Nested indexing inside one message: ``<prefix><K>.<suffix>`` -> {K: {suffix: value}}."""
    out: Indexed = {}
    for name, value in row.items():
        if name.startswith(prefix):
            index, _, rest = name[len(prefix) :].partition(".")
            if index.isascii() and index.isdigit() and len(index) < 7:
                out.setdefault(int(index), {})[rest] = value
    return out


def _oi_contents(rows: Indexed) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index in sorted(rows):
        row = rows[index]
        kind = to_str(row.get(OI_CONTENT_PART["type"])) or "text"
        if kind == "text":
            out.append(text_part(row.get(OI_CONTENT_PART["text"])))
        elif kind == "image":
            out.append(
                {"type": "uri", "modality": "image", "uri": row.get(OI_CONTENT_PART["image"])}
            )
        else:
            out.append({"type": kind, **row})
    return out


def _oi_tool_calls(rows: Indexed) -> list[dict[str, Any]]:
    return [_tool_call(*(rows[i].get(OI_TOOL_CALL[k]) for k in _CALL)) for i in sorted(rows)]


def _legacy_tool_calls(rows: Indexed) -> list[dict[str, Any]]:
    return [_tool_call(*(rows[i].get(LEGACY_TOOL_CALL[k]) for k in _CALL)) for i in sorted(rows)]


_CALL = ("id", "name", "arguments")


def _texts(rows: Indexed, suffix: str, role: str) -> list[Message] | None:
    out = [
        {"role": role, "parts": [text_part(rows[i][suffix])]}
        for i in sorted(rows)
        if suffix in rows[i]
    ]
    return out or None


_TOOL_EVENT = "gen_ai.tool.message"


def _events_messages(events: list[dict[str, Any]], output: bool) -> list[Message] | None:
    if not events:
        return None
    return _conversation_event(events, output) or _event_messages(events, output)


def _conversation_event(events: list[dict[str, Any]], output: bool) -> list[Message] | None:
    for event in events:
        name = event.get("name")
        keys = CONVERSATION_EVENTS.get(name) if isinstance(name, str) else None
        attributes = event.get("attributes")
        if keys is None or not isinstance(attributes, dict) or not keys[output]:
            continue
        value = jsonish(attributes.get(keys[output]))
        if output:
            found = messages_in_output(value)
        else:
            found = messages_in_input(value) or messages(value if isinstance(value, list) else None)
        if found is None and isinstance(value, str) and value:
            found = [{"role": "assistant" if output else "user", "parts": [text_part(value)]}]
        if found is not None:
            return found
    return None


def _event_messages(events: list[dict[str, Any]], output: bool) -> list[Message] | None:
    out = []
    for event in events:
        name = event.get("name")
        attributes = event.get("attributes")
        if not isinstance(attributes, dict):
            continue
        if output and name == CHOICE_EVENT:
            built = _choice(attributes)
        elif not output and name in MESSAGE_EVENTS:
            body = _event_body(attributes)
            if name == _TOOL_EVENT and "tool_call_id" not in body:
                body["tool_call_id"] = body.get("id")  # gen_ai.tool.message body: {content, id}
            built = message({**body, "role": to_str(body.get("role")) or MESSAGE_EVENTS[name]})
        else:
            continue
        if built is not None:
            out.append(built)
    return out or None


def _event_body(attributes: dict[str, Any]) -> dict[str, Any]:
    body = mapping(attributes.get("body")) or mapping(attributes.get("gen_ai.event.content"))
    return {**attributes, **(body or {})}


def _choice(attributes: dict[str, Any]) -> Message | None:
    body = _event_body(attributes)
    inner = mapping(jsonish(body.get("message")))
    built = message({"role": "assistant", **(inner or body)})
    if built is not None and "finish_reason" not in built:
        reason = to_str(body.get("finish_reason"))
        if reason is not None:
            built["finish_reason"] = reason
    return built
