"""The demo RAG agent, built only from langchain-core pieces that need no network."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import tool
from langchain_core.vectorstores import InMemoryVectorStore

from tracepond.demo.corpus import DOCUMENTS, WEATHER
from tracepond.demo.model import DemoChatModel

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer from this context:\n{context}"),
        ("human", "{question}"),
        MessagesPlaceholder("scratchpad", optional=True),
    ]
)


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    if city not in WEATHER:
        raise LookupError(f"no weather station in {city}")
    return WEATHER[city]


def build_retriever() -> Runnable[str, list[Document]]:
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=64))
    store.add_documents(
        [Document(id=i, page_content=text, metadata={"source": src}) for i, text, src in DOCUMENTS]
    )
    return store.as_retriever(search_kwargs={"k": 3})


def format_docs(docs: list[Document]) -> str:
    return "\n".join(f"- {doc.page_content}" for doc in docs)


def build_agent() -> Runnable[str, str]:
    """retrieve -> prompt -> model (may call the weather tool) -> tool -> model -> parser."""
    retriever = build_retriever()
    model = DemoChatModel().bind_tools([get_weather])
    answer_chain = PROMPT | model
    parser = StrOutputParser()

    def run(question: str) -> str:
        context = (retriever | RunnableLambda(format_docs, name="format_docs")).invoke(question)
        scratchpad: list[BaseMessage] = []
        inputs = {"context": context, "question": question, "scratchpad": scratchpad}
        reply = answer_chain.invoke(inputs)
        while reply.tool_calls:
            scratchpad.append(reply)
            for call in reply.tool_calls:
                scratchpad.append(_call_tool(call))
            reply = answer_chain.invoke(inputs)
        return parser.invoke(reply)

    return RunnableLambda(run, name="rag_agent")


def _call_tool(call: Any) -> BaseMessage:
    try:
        result: BaseMessage = get_weather.invoke(call)
        return result
    except LookupError as error:  # the agent recovers; the tool span records the failure
        return ToolMessage(f"Error: {error}", tool_call_id=str(call["id"]), status="error")
