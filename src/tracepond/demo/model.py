"""A deterministic chat model standing in for OpenAI's gpt-4o-mini (the only fake in the demo).

It answers from the documents the prompt gives it (the best-scored one first), asks for the
weather tool when a question is about the weather, says so when nothing answers a question,
and reports token usage the way OpenAI does (estimated at ~4 characters a token), under the
real model and provider names, so that tracepond prices each call as the real one would be.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

# What OpenAI answers in `model` for a request to gpt-4o-mini.
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
# `[doc-id] text`: one retrieved document per line of the system prompt (agent.format_docs).
_CONTEXT_LINE = re.compile(r"^\[(?P<id>[^\]]+)\] (?P<text>.+)$", re.MULTILINE)
_WEATHER_QUESTION = re.compile(r"\bweather in (?P<city>[A-Z][\w-]*)", re.IGNORECASE)


class DemoChatModel(BaseChatModel):
    model_name: str = "gpt-4o-mini"
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "tracepond-demo"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "openai"  # the provider whose prices apply
        return params

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = kwargs.get("tools") or []
        reply = _reply(messages, has_tools=bool(tools))
        reply.usage_metadata = _usage(messages, tools, reply)
        reply.response_metadata = {
            "model_name": RESPONSE_MODEL,
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "finish_reason": "tool_calls" if reply.tool_calls else "stop",
        }
        return ChatResult(generations=[ChatGeneration(message=reply)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._generate(messages, stop, None, **kwargs).generations[0].message
        words = re.split(r"(\s)", str(reply.content))
        for index, word in enumerate(words):
            last = index == len(words) - 1
            chunk = ChatGenerationChunk(
                message=AIMessageChunk(
                    content=word,
                    usage_metadata=reply.usage_metadata if last else None,  # type: ignore[attr-defined]
                    response_metadata=reply.response_metadata if last else {},
                )
            )
            if run_manager:
                run_manager.on_llm_new_token(word, chunk=chunk)
            yield chunk


def _reply(messages: list[BaseMessage], *, has_tools: bool) -> AIMessage:
    question = next((str(m.content) for m in reversed(messages) if m.type == "human"), "")
    documents = _documents(messages)
    last = messages[-1]
    if last.type == "tool":
        return _answer_with_tool_result(last, _city(messages), documents)
    city = _WEATHER_QUESTION.search(question)
    if has_tools and city:
        call_id = f"call_{uuid.uuid4().hex[:24]}"
        call = {"name": "get_weather", "args": {"city": city["city"]}, "id": call_id}
        return AIMessage(content="", tool_calls=[call])
    if not documents:
        return AIMessage(
            content="I could not find anything about that in the knowledge base, so I cannot"
            " answer it reliably."
        )
    doc_id, text = documents[0]  # the best-scored document
    return AIMessage(content=f"{text} [{doc_id}]")


def _answer_with_tool_result(
    result: BaseMessage, city: str, documents: list[tuple[str, str]]
) -> AIMessage:
    if getattr(result, "status", "success") == "error":
        reason = str(result.content).removeprefix("Error: ")
        about = "" if documents else f", and the knowledge base has nothing about {city} either"
        return AIMessage(content=f"Sorry, I could not get the weather for {city}: {reason}{about}.")
    answer = f"Right now in {city}: {result.content}."
    about_city = [(doc_id, text) for doc_id, text in documents if city.lower() in text.lower()]
    if about_city:
        doc_id, text = about_city[0]
        answer += f" {text} [{doc_id}]"
    return AIMessage(content=answer)


def _documents(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    """(id, text) of each document in the system prompt, best first."""
    system = next((str(m.content) for m in messages if m.type == "system"), "")
    return [(match["id"], match["text"]) for match in _CONTEXT_LINE.finditer(system)]


def _city(messages: list[BaseMessage]) -> str:
    """The city of the weather tool call this conversation made."""
    for message in reversed(messages):
        for call in getattr(message, "tool_calls", None) or []:
            return str(call["args"].get("city", "there"))
    return "there"


def _usage(messages: list[BaseMessage], tools: list[Any], reply: AIMessage) -> Any:
    # OpenAI's accounting: ~4 tokens of framing per message and 3 to prime the reply; the tool
    # schemas are part of the prompt.
    prompt = sum(4 + _tokens(str(m.content)) for m in messages) + 3
    prompt += _tokens(json.dumps(tools)) if tools else 0
    output = _tokens(str(reply.content))
    output += sum(_tokens(json.dumps(call["args"])) + 10 for call in reply.tool_calls)
    return {"input_tokens": prompt, "output_tokens": output, "total_tokens": prompt + output}


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)
