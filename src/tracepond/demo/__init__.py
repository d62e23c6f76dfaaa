"""`tracepond demo`: a LangChain RAG agent that needs no network, traced into a server."""

from tracepond.demo.run import QUESTIONS, run_demo, trace_url

__all__ = ["QUESTIONS", "run_demo", "trace_url"]
