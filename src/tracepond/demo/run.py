"""Run the demo agent against a tracepond server and say where to see the traces."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

import tracepond
from tracepond.demo.corpus import QUESTIONS

__all__ = ["QUESTIONS", "run_demo", "trace_url"]


def run_demo(
    endpoint: str,
    *,
    protocol: str = "http",
    out: Callable[[str], object] = print,
    ui_url: str | None = None,
    api_key: str | None = None,
    project: str | None = None,
    ca_file: str | None = None,
) -> list[str]:
    """Ask the demo agent every question; returns the trace ids, one per question.

    `endpoint` is the server's OTLP address (its HTTP port for `protocol="http"` or
    `"http/protobuf"`, its gRPC port for `"grpc"`). Links printed point at `ui_url`, by default
    the HTTP endpoint itself. `api_key`, `project` and `ca_file` are `tracepond.init()`'s.
    """
    import tracepond.langchain  # needs langchain-core, so only when the demo runs
    from tracepond.demo.agent import build_agent

    tracepond.init(
        endpoint,
        protocol=protocol,
        service_name="tracepond-demo",
        api_key=api_key,
        project=project,
        ca_file=ca_file,
    )
    was_instrumented = tracepond.langchain.is_instrumented()
    tracepond.langchain.instrument()
    try:
        trace_ids = _ask_all(build_agent(), out)
    finally:
        if not was_instrumented:
            tracepond.langchain.uninstrument()
    if not tracepond.flush(timeout_millis=10_000):
        out("warning: not every span reached the server (is it running?)")
    _print_links(trace_ids, ui_url or (endpoint if protocol != "grpc" else None), out)
    return trace_ids


def _ask_all(agent: object, out: Callable[[str], object]) -> list[str]:
    from langchain_core.runnables import Runnable

    assert isinstance(agent, Runnable)
    trace_ids = []
    sessions = _sessions()
    for question in QUESTIONS:
        with (
            tracepond.context(
                session_id=sessions[question.user], user_id=question.user, tags=["demo"]
            ),
            tracepond.span("demo question", kind="chain") as root,
        ):
            root.set_input(question.text)
            answer = agent.invoke(question.text)
            root.set_output(answer)
        out(f"Q: {question.text}\nA: {answer}")
        trace_ids.append(root.trace_id)
    return trace_ids


def _sessions() -> dict[str, str]:
    """One chat session per user, with a fresh id each run, as a chat application makes them."""
    return {question.user: f"chat-{uuid.uuid4().hex[:12]}" for question in QUESTIONS}


def trace_url(base: str, trace_id: str) -> str:
    """`http://host:port/traces/{id}` on the server's HTTP port."""
    parts = urlsplit(base if "://" in base else "http://" + base)
    return f"{parts.scheme}://{parts.netloc}/traces/{trace_id}"


def _print_links(trace_ids: list[str], base: str | None, out: Callable[[str], object]) -> None:
    out(f"\n{len(trace_ids)} traces sent.")
    for trace_id in trace_ids:
        out(trace_url(base, trace_id) if base else f"trace {trace_id}")
