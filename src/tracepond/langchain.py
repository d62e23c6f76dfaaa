"""`tracepond.langchain`: trace LangChain runs as OpenTelemetry spans.

import tracepond, tracepond.langchain
tracepond.init()
tracepond.langchain.instrument()   # or callbacks=[TracepondCallbackHandler()]
"""

from tracepond.sdk.langchain import (
    TracepondCallbackHandler,
    instrument,
    is_instrumented,
    uninstrument,
)

__all__ = ["TracepondCallbackHandler", "instrument", "is_instrumented", "uninstrument"]
