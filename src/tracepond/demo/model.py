"""A deterministic chat model standing in for an LLM provider (the only fake in the demo).

It answers from the context the prompt gives it, asks for the weather tool when a question
mentions the weather, and reports token usage like a real provider would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool


class DemoChatModel(BaseChatModel):
    model_name: str = "tracepond-demo-1"

    @property
    def _llm_type(self) -> str:
        return "tracepond-demo"

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
        reply = _reply(messages, has_tools=bool(kwargs.get("tools")))
        reply.usage_metadata = _usage(messages, reply)
        reply.response_metadata = {"model_name": self.model_name, "finish_reason": _finish(reply)}
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
    last = messages[-1]
    if last.type == "tool":
        if getattr(last, "status", "success") == "error" or "Error" in str(last.content):
            return AIMessage(content=f"Sorry, I could not get that: {last.content}")
        return AIMessage(content=f"The weather tool says: {last.content}.")
    question = str(last.content)
    city = re.search(r"weather in (\w+)", question, re.IGNORECASE)
    if has_tools and city:
        call = {
            "name": "get_weather",
            "args": {"city": city.group(1)},
            "id": f"call_{city.group(1)}",
        }
        return AIMessage(content="", tool_calls=[call])
    context = next((str(m.content) for m in messages if m.type == "system"), "")
    lines = [line.strip("- ") for line in context.split("\n")[1:] if line.strip()]
    if not lines:
        return AIMessage(content="I do not know.")
    words = set(re.findall(r"\w+", question.lower()))
    # The fake embedding ranks documents arbitrarily; pick the line that shares most words.
    best = max(lines, key=lambda line: len(words & set(re.findall(r"\w+", line.lower()))))
    return AIMessage(content=f"From the knowledge base: {best}")


def _usage(messages: list[BaseMessage], reply: AIMessage) -> Any:
    prompt_words = sum(len(str(m.content).split()) for m in messages)
    output_words = len(str(reply.content).split()) + 8 * len(reply.tool_calls)
    return {
        "input_tokens": prompt_words,
        "output_tokens": output_words,
        "total_tokens": prompt_words + output_words,
    }


def _finish(reply: AIMessage) -> str:
    return "tool_calls" if reply.tool_calls else "stop"
