"""LangChain runs become the expected span trees: sync, async, batch, stream; explicit
callbacks and global instrument(); nested in @trace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from opentelemetry.trace import StatusCode

import tracepond
import tracepond.langchain
from tracepond.langchain import TracepondCallbackHandler

from .lc_fixtures import rag_chain, tool_agent
from .spans import Spans, attr, json_attr

RETRIEVER = "retrieval VectorStoreRetriever"
RAG_TREE: tuple[str, list[Any]] = (
    "RunnableSequence",
    [
        (
            "RunnableParallel<context,question>",
            sorted([(RETRIEVER, []), ("RunnablePassthrough", [])]),
        ),
        ("ChatPromptTemplate", []),
        ("GenericFakeChatModel", []),
        ("StrOutputParser", []),
    ],
)
AGENT_TREE: tuple[str, list[Any]] = (
    "agent",
    [
        ("FakeMessagesListChatModel", []),
        ("execute_tool get_weather", []),
        ("FakeMessagesListChatModel", []),
    ],
)


def canonical(tree: list[Any]) -> list[Any]:
    """Sort children of parallel steps, whose start order depends on thread scheduling."""
    out = []
    for name, children in tree:
        kids = canonical(children)
        if name.startswith("RunnableParallel"):
            kids = sorted(kids)
        out.append((name, kids))
    return out


@pytest.fixture
def global_instrument() -> Iterator[None]:
    tracepond.langchain.instrument()
    yield
    tracepond.langchain.uninstrument()


def callbacks() -> RunnableConfig:
    return {"callbacks": [TracepondCallbackHandler()]}


def assert_rag_attributes(spans: Spans, answer: str, *, streamed: bool = False) -> None:
    root = spans.named("RunnableSequence")
    assert attr(root, "tracepond.span.kind") == "chain"
    assert attr(root, "gen_ai.operation.name") == "invoke_workflow"
    assert json_attr(root, "tracepond.input") == "Where is Paris?"
    assert json_attr(root, "tracepond.output") == answer

    retriever = spans.named(RETRIEVER)
    assert attr(retriever, "tracepond.span.kind") == "retriever"
    assert attr(retriever, "gen_ai.operation.name") == "retrieval"
    assert attr(retriever, "gen_ai.retrieval.query.text") == "Where is Paris?"
    assert attr(retriever, "gen_ai.data_source.id") == "InMemoryVectorStore"
    docs = json_attr(retriever, "gen_ai.retrieval.documents")
    assert len(docs) == 2
    assert all(set(d) == {"id", "content", "score", "metadata"} for d in docs)
    assert all(d["id"] in {"paris", "berlin", "tea"} and d["metadata"]["src"] for d in docs)

    assert attr(spans.named("ChatPromptTemplate"), "tracepond.langchain.run_type") == "prompt"
    assert attr(spans.named("StrOutputParser"), "tracepond.langchain.run_type") == "parser"

    chat = spans.named("GenericFakeChatModel")
    assert attr(chat, "tracepond.span.kind") == "chat"
    assert attr(chat, "gen_ai.operation.name") == "chat"
    assert attr(chat, "gen_ai.provider.name") == "genericfakechatmodel"
    if not streamed:  # GenericFakeChatModel's stream drops usage_metadata: nothing to record
        assert attr(chat, "gen_ai.usage.input_tokens") == 20
        assert attr(chat, "gen_ai.usage.output_tokens") == 6
        assert attr(chat, "gen_ai.usage.total_tokens") == 26
    system, human = json_attr(chat, "gen_ai.input.messages")
    assert system["role"] == "system"
    assert system["parts"][0]["content"].startswith("Answer from the context:")
    assert human == {"role": "user", "parts": [{"type": "text", "content": "Where is Paris?"}]}
    [output] = json_attr(chat, "gen_ai.output.messages")
    assert output["role"] == "assistant"
    assert output["parts"] == [{"type": "text", "content": answer}]
    assert {s.context.trace_id for s in spans.all()} == {root.context.trace_id}


def test_rag_chain_sync_explicit_callbacks(spans: Spans) -> None:
    chain = rag_chain(["Paris is in France."])
    assert chain.invoke("Where is Paris?", config=callbacks()) == "Paris is in France."
    assert canonical(spans.tree()) == [RAG_TREE]
    assert_rag_attributes(spans, "Paris is in France.")


async def test_rag_chain_async_global_instrument(spans: Spans, global_instrument: None) -> None:
    chain = rag_chain(["Paris is in France."])
    assert await chain.ainvoke("Where is Paris?") == "Paris is in France."
    assert canonical(spans.tree()) == [RAG_TREE]
    assert_rag_attributes(spans, "Paris is in France.")


def test_rag_chain_batch_makes_one_tree_per_input(spans: Spans, global_instrument: None) -> None:
    chain = rag_chain(["one", "two", "three"])
    assert sorted(chain.batch(["a?", "b?", "c?"])) == ["one", "three", "two"]
    trees = canonical(spans.tree())
    assert len(trees) == 3
    assert all(tree == RAG_TREE for tree in trees)
    assert len({s.context.trace_id for s in spans.all_named("RunnableSequence")}) == 3


async def test_rag_chain_abatch(spans: Spans) -> None:
    chain = rag_chain(["one", "two"])
    assert sorted(await chain.abatch(["a?", "b?"], config=callbacks())) == ["one", "two"]
    assert canonical(spans.tree()) == [RAG_TREE, RAG_TREE]


def test_rag_chain_stream_records_first_token(spans: Spans, global_instrument: None) -> None:
    chain = rag_chain(["Paris is in France."])
    chunks = list(chain.stream("Where is Paris?"))
    assert "".join(chunks) == "Paris is in France."
    assert len(chunks) > 1
    assert canonical(spans.tree()) == [RAG_TREE]
    assert_rag_attributes(spans, "Paris is in France.", streamed=True)
    chat = spans.named("GenericFakeChatModel")
    assert attr(chat, "gen_ai.request.stream") is True
    ttft = attr(chat, "gen_ai.response.time_to_first_chunk")
    assert isinstance(ttft, float) and ttft >= 0
    assert [e.name for e in chat.events] == ["gen_ai.first_token"]


async def test_rag_chain_astream(spans: Spans) -> None:
    chain = rag_chain(["Paris is in France."])
    chunks = [c async for c in chain.astream("Where is Paris?", config=callbacks())]
    assert "".join(chunks) == "Paris is in France."
    assert canonical(spans.tree()) == [RAG_TREE]
    assert_rag_attributes(spans, "Paris is in France.", streamed=True)


def assert_agent_attributes(spans: Spans, *, tool_failed: bool) -> None:
    agent = spans.named("agent")
    assert attr(agent, "tracepond.span.kind") == "agent"
    assert attr(agent, "gen_ai.operation.name") == "invoke_agent"
    tool = spans.named("execute_tool get_weather")
    assert attr(tool, "tracepond.span.kind") == "tool"
    assert attr(tool, "gen_ai.operation.name") == "execute_tool"
    assert attr(tool, "gen_ai.tool.name") == "get_weather"
    assert attr(tool, "gen_ai.tool.call.id") == "call_1"
    assert attr(tool, "gen_ai.tool.description") == "Current weather for a city."
    first_chat, second_chat = spans.all_named("FakeMessagesListChatModel")
    [output] = json_attr(first_chat, "gen_ai.output.messages")
    assert output["parts"] == [
        {"type": "tool_call", "name": "get_weather", "arguments": tool_args(tool), "id": "call_1"}
    ]
    inputs = json_attr(second_chat, "gen_ai.input.messages")
    assert [m["role"] for m in inputs] == ["user", "assistant", "tool"]
    assert inputs[2]["parts"][0]["type"] == "tool_call_response"
    assert inputs[2]["parts"][0]["id"] == "call_1"
    if tool_failed:
        assert tool.status.status_code is StatusCode.ERROR
        assert attr(tool, "error.type") == "ValueError"
        assert [e.name for e in tool.events] == ["exception"]
        assert attr(tool, "gen_ai.tool.call.result") is None
        assert agent.status.status_code is StatusCode.UNSET
    else:
        assert tool.status.status_code is StatusCode.UNSET
        assert json_attr(tool, "gen_ai.tool.call.result") == "14C and sunny in Paris"


def tool_args(tool_span: Any) -> Any:
    return json_attr(tool_span, "gen_ai.tool.call.arguments")


def test_tool_agent_global_instrument(spans: Spans, global_instrument: None) -> None:
    assert tool_agent("Paris").invoke("Weather in Paris?") == "It is fine."
    assert spans.tree() == [AGENT_TREE]
    assert_agent_attributes(spans, tool_failed=False)
    assert tool_args(spans.named("execute_tool get_weather")) == {"city": "Paris"}


async def test_tool_agent_async_with_failing_tool(spans: Spans) -> None:
    assert await tool_agent("Atlantis").ainvoke("Weather?", config=callbacks()) == "It is fine."
    assert spans.tree() == [AGENT_TREE]
    assert_agent_attributes(spans, tool_failed=True)


def test_nested_inside_trace_with_context(spans: Spans, global_instrument: None) -> None:
    @tracepond.trace(name="handle_request", kind="agent")
    def handle_request(question: str) -> str:
        answer = rag_chain(["Paris is in France."]).invoke(question)
        return answer + " " + tool_agent("Paris").invoke(question)

    with tracepond.context(session_id="conv-7", user_id="u-1", tags=["demo"]):
        assert handle_request("Where is Paris?") == "Paris is in France. It is fine."
    assert canonical(spans.tree()) == [("handle_request", [RAG_TREE, AGENT_TREE])]
    # Context values reach every span, including the retriever run in a worker thread.
    assert all(attr(s, "gen_ai.conversation.id") == "conv-7" for s in spans.all())
    assert all(attr(s, "user.id") == "u-1" for s in spans.all())


def test_explicit_handler_with_global_instrument_is_not_doubled(
    spans: Spans, global_instrument: None
) -> None:
    rag_chain(["x"]).invoke("Where is Paris?", config=callbacks())
    assert canonical(spans.tree()) == [RAG_TREE]


def test_uninstrument_stops_tracing(spans: Spans) -> None:
    tracepond.langchain.instrument()
    assert tracepond.langchain.is_instrumented()
    tracepond.langchain.uninstrument()
    assert not tracepond.langchain.is_instrumented()
    rag_chain(["x"]).invoke("Where is Paris?")
    assert spans.all() == ()


def test_langchain_session_metadata_and_chain_error(spans: Spans) -> None:
    from langchain_core.runnables import RunnableLambda

    def explode(_: str) -> str:
        raise RuntimeError("chain broke")

    chain = RunnableLambda(explode, name="fragile")
    with pytest.raises(RuntimeError, match="chain broke"):
        chain.invoke(
            "x",
            config={"callbacks": [TracepondCallbackHandler()], "metadata": {"thread_id": "t-9"}},
        )
    span = spans.named("fragile")
    assert span.status.status_code is StatusCode.ERROR
    assert attr(span, "gen_ai.conversation.id") == "t-9"
    assert [e.name for e in span.events] == ["exception"]
