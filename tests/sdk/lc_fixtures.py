"""LangChain pipelines built only from langchain-core pieces that need no network."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import (
    FakeMessagesListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from langchain_core.tools import BaseTool, tool
from langchain_core.vectorstores import InMemoryVectorStore

DOCS = [
    Document(id="paris", page_content="Paris is the capital of France.", metadata={"src": "geo"}),
    Document(
        id="berlin", page_content="Berlin is the capital of Germany.", metadata={"src": "geo"}
    ),
    Document(id="tea", page_content="Green tea is brewed at 80 degrees.", metadata={"src": "food"}),
]
USAGE = {"input_tokens": 20, "output_tokens": 6, "total_tokens": 26}


def rag_chain(answers: list[str]) -> Runnable[str, str]:
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=32))
    store.add_documents(DOCS)
    retriever = store.as_retriever(search_kwargs={"k": 2})
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the context: {context}"), ("human", "{question}")]
    )
    model = GenericFakeChatModel(
        messages=iter([AIMessage(content=a, usage_metadata=USAGE) for a in answers])
    )
    return (
        {"context": retriever, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    if city == "Atlantis":
        raise ValueError("no weather station in Atlantis")
    return f"14C and sunny in {city}"


def tool_call(city: str, call_id: str) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"name": "get_weather", "args": {"city": city}, "id": call_id}],
        usage_metadata=USAGE,
    )


def tool_agent(city: str) -> Runnable[str, str]:
    """A tool-calling loop: model -> tool -> model, as one runnable named "agent"."""
    model = FakeMessagesListChatModel(
        responses=[
            tool_call(city, "call_1"),
            AIMessage(content="It is fine.", usage_metadata=USAGE),
        ]
    )
    tools: dict[str, BaseTool] = {"get_weather": get_weather}

    def loop(question: str) -> str:
        messages: list[BaseMessage] = [HumanMessage(question)]
        reply: Any = model.invoke(messages)
        while reply.tool_calls:
            messages.append(reply)
            for call in reply.tool_calls:
                try:
                    messages.append(tools[call["name"]].invoke(call))
                except ValueError as error:
                    messages.append(ToolMessage(str(error), tool_call_id=call["id"]))
            reply = model.invoke(messages)
        return str(reply.content)

    return RunnableLambda(loop, name="agent")
