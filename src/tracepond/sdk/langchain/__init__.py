"""LangChain integration (needs `langchain-core`: `pip install 'tracepond[langchain]'`)."""

from tracepond.sdk.langchain._handler import TracepondCallbackHandler
from tracepond.sdk.langchain._instrument import instrument, is_instrumented, uninstrument

__all__ = ["TracepondCallbackHandler", "instrument", "is_instrumented", "uninstrument"]
