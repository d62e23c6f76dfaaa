"""The small knowledge base the demo agent answers from (bundled as code: no data files)."""

from __future__ import annotations

from typing import Final

# (id, text, source)
DOCUMENTS: Final[list[tuple[str, str, str]]] = [
    (
        "otel-spans",
        "A span is one timed step of work; spans nest into a trace by parent id.",
        "otel",
    ),
    (
        "otel-context",
        "OpenTelemetry context carries the current span across function calls.",
        "otel",
    ),
    ("otlp", "OTLP is the wire protocol of OpenTelemetry, spoken over gRPC or HTTP.", "otel"),
    (
        "genai-conv",
        "The GenAI conventions name LLM attributes such as gen_ai.request.model.",
        "otel",
    ),
    (
        "rag",
        "Retrieval-augmented generation retrieves documents and passes them to the model.",
        "ml",
    ),
    ("embeddings", "An embedding maps text to a vector so similar texts lie close together.", "ml"),
    ("tool-calls", "A tool call lets a model ask the application to run a function for it.", "ml"),
    ("paris", "Paris is the capital of France and lies on the Seine.", "geo"),
    ("tokyo", "Tokyo is the capital of Japan and its largest city.", "geo"),
    ("tracepond", "tracepond stores agent traces in DuckDB and shows them as span trees.", "docs"),
]

# Weather the demo tool knows; any other city makes the tool fail (on purpose).
WEATHER: Final[dict[str, str]] = {"Paris": "14C, light rain", "Tokyo": "22C, clear sky"}

QUESTIONS: Final[list[str]] = [
    "What is a span?",
    "How does retrieval-augmented generation work?",
    "What is the weather in Paris?",
    "What is the weather in Atlantis?",
]
