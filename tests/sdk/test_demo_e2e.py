"""End to end: the demo agent against a real `tracepond serve`, trees read back via the API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tracepond

SRC = str(Path(tracepond.__file__).resolve().parents[1])
pytestmark = pytest.mark.slow

QA = ["RunnableSequence", [["ChatPromptTemplate", []], ["chat gpt-4o-mini", []]]]
RETRIEVE = ["RunnableSequence", [["retrieval BM25Retriever", []], ["format_docs", []]]]
PLAIN = ["demo question", [["rag_agent", [RETRIEVE, QA, ["StrOutputParser", []]]]]]
WITH_TOOL = [
    "demo question",
    [["rag_agent", [RETRIEVE, QA, ["execute_tool get_weather", []], QA, ["StrOutputParser", []]]]],
]


def shape(node: dict[str, Any]) -> list[Any]:
    children = sorted(node["children"], key=lambda c: c["start_time_unix_nano"])
    return [node["name"], [shape(c) for c in children]]


def size(expected: list[Any]) -> int:
    return 1 + sum(size(child) for child in expected[1])


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node] + [n for c in node["children"] for n in walk(c)]


def run_demo(endpoint: str, protocol: str) -> list[str]:
    code = (
        "import json, tracepond.demo\n"
        f"ids = tracepond.demo.run_demo({endpoint!r}, protocol={protocol!r}, out=lambda s: None)\n"
        "print(json.dumps(ids))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC},
        timeout=120,
        check=True,
    )
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def wait_for_trees(server: Any, trace_ids: list[str], spans_each: list[int]) -> list[Any]:
    deadline = time.monotonic() + 30
    while True:
        trees = [server.trace(t) for t in trace_ids]
        counts = [len(walk(t["roots"][0])) if t and t["roots"] else 0 for t in trees]
        if counts == spans_each or time.monotonic() > deadline:
            return trees
        time.sleep(0.2)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_demo_fills_the_server(start_tracepond: Callable[..., Any], protocol: str) -> None:
    server = start_tracepond()
    endpoint = f"http://{server.http}" if protocol == "http" else f"http://{server.grpc}"
    trace_ids = run_demo(endpoint, protocol)
    assert len(trace_ids) == 4 and len(set(trace_ids)) == 4
    expected = [PLAIN, PLAIN, WITH_TOOL, WITH_TOOL]
    trees = wait_for_trees(server, trace_ids, [size(e) for e in expected])
    shapes = [shape(t["roots"][0]) for t in trees]
    assert shapes == expected
    for tree in trees:
        assert len(tree["roots"]) == 1
        for node in walk(tree["roots"][0]):
            assert node["attributes"]["session.id"].startswith("chat-")
            assert node["attributes"]["tracepond.span.kind"]
    failing = next(n for n in walk(trees[3]["roots"][0]) if n["name"] == "execute_tool get_weather")
    assert failing["status"]["code"] == "error"
    assert any(e["name"] == "exception" for e in failing["events"])
    ok_tool = next(n for n in walk(trees[2]["roots"][0]) if n["name"] == "execute_tool get_weather")
    assert ok_tool["status"]["code"] != "error"
    assert json.loads(ok_tool["attributes"]["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    check_the_story(trees)


# The document that answers each demo question (None: nothing in the knowledge base does).
ANSWERED_BY = ["otel-spans", "rag", "paris", None]


def check_the_story(trees: list[Any]) -> None:
    """What a newcomer reads in each trace: question -> relevant documents with scores ->
    tool call where the question needs one -> an answer that uses them, each LLM call priced
    by provider, model and tokens."""
    for tree, expected in zip(trees, ANSWERED_BY, strict=True):
        nodes = walk(tree["roots"][0])
        retriever = next(n for n in nodes if n["view"]["category"] == "retriever")
        docs = retriever["view"]["documents"] or []
        answer = tree["roots"][0]["view"]["output"]
        if expected is None:
            assert docs == []
            assert "nothing about" in answer
        else:
            assert docs[0]["id"] == expected
            scores = [d["score"] for d in docs]
            assert all(isinstance(s, float) and s > 0 for s in scores)
            assert scores == sorted(scores, reverse=True)
            assert f"[{expected}]" in answer  # the answer cites the document it used
        for llm in (n for n in nodes if n["view"]["category"] == "llm"):
            assert llm["view"]["provider"] == "openai"
            assert llm["view"]["model"].startswith("gpt-4o-mini")
            usage = llm["view"]["usage"]
            assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    paris = walk(trees[2]["roots"][0])
    tool = next(n for n in paris if n["view"]["category"] == "tool")
    assert tool["view"]["tool"]["arguments"] == {"city": "Paris"}
    assert "14 °C, light rain" in trees[2]["roots"][0]["view"]["output"]
    sessions = [t["roots"][0]["attributes"]["session.id"] for t in trees]
    users = [t["roots"][0]["attributes"]["user.id"] for t in trees]
    assert sessions[0] == sessions[1] != sessions[2] == sessions[3]
    assert all("@" in user for user in users) and users[0] != users[2]
