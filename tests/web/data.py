"""Spans the web tests load into a real server: the demo agent's traces (in a subprocess, as
tests/sdk/test_demo_e2e.py does), spans carrying XSS payloads everywhere a span can carry text,
and one 20,000-span trace."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

import tracepond
from conftest import TracepondProcess
from ingest.otlp_build import BASE_NS, key_values, make_request, make_span, span_id, trace_id

SRC = str(Path(tracepond.__file__).resolve().parents[1])
MS = 1_000_000

# Each payload sets window.__xss when it runs; the tests check it never does, and that the
# payload shows as literal text.
XSS = {
    "name": '<img src=x onerror="window.__xss=1">',
    "input": "<script>window.__xss=2</script>",
    "session": "javascript:window.__xss=3",
    "attr": '<a href="javascript:window.__xss=4" id="xss-link">click</a>',
    "message": '<img src=x onerror="window.__xss=5">',
    "tool_call": '<svg onload="window.__xss=6"></svg>',
    "doc": '<iframe src="javascript:window.__xss=7"></iframe>',
    "meta": '<img src=x onerror="window.__xss=8">',
    "status": '<img src=x onerror="window.__xss=9">',
    "stack": "</pre><script>window.__xss=10</script>",
    "service": '<b onmouseover="window.__xss=11">svc</b>',
    "tool": "<script>window.__xss=12</script>",
}


def run_demo(server: TracepondProcess) -> list[str]:
    code = (
        "import json, tracepond.demo\n"
        f"ids = tracepond.demo.run_demo({server.url!r}, out=lambda s: None)\n"
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
    ids = list(json.loads(result.stdout.strip().splitlines()[-1]))
    wait_for(server, ids)
    return ids


def wait_for(server: TracepondProcess, trace_ids: list[str], spans: int | None = None) -> None:
    deadline = time.monotonic() + 60
    for tid in trace_ids:
        while True:
            tree = server.trace(tid)
            if tree is not None and (spans is None or tree["summary"]["span_count"] >= spans):
                break
            assert time.monotonic() < deadline, f"trace {tid} did not arrive"
            time.sleep(0.2)


def post(server: TracepondProcess, spans: list[Span], **kwargs: Any) -> None:
    response = server.post_otlp(make_request(spans, **kwargs).SerializeToString())
    assert response.status_code == 200, response.text


def xss_trace(server: TracepondProcess) -> dict[str, str]:
    """One trace whose every text field is an XSS payload; returns the span ids by role."""
    tid = trace_id()
    ids = {role: span_id() for role in ("root", "llm", "retriever", "tool")}
    root = make_span(
        tid,
        ids["root"],
        XSS["name"],
        start=BASE_NS,
        end=BASE_NS + 40 * MS,
        attributes={
            "tracepond.span.kind": "chain",
            "tracepond.input": XSS["input"],
            "session.id": XSS["session"],
            "xss.attribute": XSS["attr"],
        },
    )
    messages_in = [{"role": "user", "parts": [{"type": "text", "content": XSS["message"]}]}]
    messages_out = [
        {
            "role": "assistant",
            "parts": [
                {"type": "text", "content": XSS["message"]},
                {"type": "tool_call", "id": "c1", "name": XSS["tool_call"], "arguments": {}},
            ],
        }
    ]
    llm = make_span(
        tid,
        ids["llm"],
        "chat",
        parent=ids["root"],
        start=BASE_NS + MS,
        end=BASE_NS + 10 * MS,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": XSS["name"],
            "gen_ai.input.messages": json.dumps(messages_in),
            "gen_ai.output.messages": json.dumps(messages_out),
            "gen_ai.usage.input_tokens": 3,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.response.time_to_first_chunk": 0.0042,
        },
    )
    docs = [
        {"id": XSS["name"], "content": XSS["doc"], "score": 0.5, "metadata": {"m": XSS["meta"]}}
    ]
    retriever = make_span(
        tid,
        ids["retriever"],
        "retrieve",
        parent=ids["root"],
        start=BASE_NS + 11 * MS,
        end=BASE_NS + 20 * MS,
        attributes={
            "tracepond.span.kind": "retriever",
            "gen_ai.retrieval.query.text": XSS["input"],
            "gen_ai.retrieval.documents": json.dumps(docs),
        },
    )
    tool = make_span(
        tid,
        ids["tool"],
        "tool",
        parent=ids["root"],
        start=BASE_NS + 21 * MS,
        end=BASE_NS + 30 * MS,
        attributes={
            "tracepond.span.kind": "tool",
            "gen_ai.tool.name": XSS["tool"],
            "gen_ai.tool.call.arguments": json.dumps({"q": XSS["input"]}),
        },
        status_code=2,
        status_message=XSS["status"],
    )
    event = tool.events.add()
    event.name = "exception"
    event.time_unix_nano = BASE_NS + 29 * MS
    event.attributes.extend(
        key_values(
            {
                "exception.type": XSS["tool"],
                "exception.message": XSS["status"],
                "exception.stacktrace": XSS["stack"],
            }
        )
    )
    post(server, [root, llm, retriever, tool], service=XSS["service"])
    wait_for(server, [tid.hex()], spans=4)
    return {"trace_id": tid.hex(), **{role: sid.hex() for role, sid in ids.items()}}


HUGE_SPANS = 20_000


def huge_trace(server: TracepondProcess) -> str:
    """A root, 200 children and 99 grandchildren each: 20,000 spans in one trace."""
    tid = trace_id()
    root = span_id()
    spans = [make_span(tid, root, "huge root", start=BASE_NS, end=BASE_NS + 10_000 * MS)]
    for i in range(200):
        parent = span_id()
        start = BASE_NS + i * 50 * MS
        spans.append(
            make_span(tid, parent, f"step {i}", parent=root, start=start, end=start + 45 * MS)
        )
        for j in range(99):
            s = start + j * 400_000
            attributes = {"tracepond.span.kind": "tool" if j % 3 else "llm", "index": j}
            spans.append(
                make_span(
                    tid,
                    span_id(),
                    f"call {i}.{j}",
                    parent=parent,
                    start=s,
                    end=s + 300_000,
                    attributes=attributes,
                    status_code=2 if j == 50 else 0,
                )
            )
    spans = spans[:HUGE_SPANS]  # 1 + 200 + 200 * 99 = 20,001: drop one grandchild
    assert len(spans) == HUGE_SPANS, len(spans)
    for offset in range(0, len(spans), 5000):
        post(server, spans[offset : offset + 5000], service="huge-service")
    wait_for(server, [tid.hex()], spans=HUGE_SPANS)
    return tid.hex()
