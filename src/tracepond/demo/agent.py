"""The demo RAG agent, built only from langchain-core pieces that need no network."""

from __future__ import annotations

from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import tool

from tracepond.demo.corpus import DOCUMENTS, WEATHER
from tracepond.demo.model import DemoChatModel
from tracepond.demo.retriever import BM25Retriever

PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Answer the question from these documents, citing the one you use as [id]. If they"
            " do not answer it, say so.\n{context}",
        ),
        ("human", "{question}"),
        MessagesPlaceholder("scratchpad", optional=True),
    ]
)
NO_DOCUMENTS = "(no document matches the question)"


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    if city not in WEATHER:
        raise LookupError(f"no weather station in {city}")
    return WEATHER[city]


def build_retriever() -> BM25Retriever:
    return BM25Retriever(
        documents=[
            Document(id=article.id, page_content=article.text, metadata={"source": article.source})
            for article in DOCUMENTS
        ]
    )


def format_docs(docs: list[Document]) -> str:
    if not docs:
        return NO_DOCUMENTS
    return "\n".join(f"[{doc.id}] {doc.page_content}" for doc in docs)


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
