"""The small knowledge base the demo agent answers from (bundled as code: no data files).

Each question the demo asks has one document that answers it, except the last, which no
document (and no weather station) can answer: the agent must say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Article:
    id: str
    source: str
    text: str


DOCUMENTS: Final[list[Article]] = [
    Article(
        "otel-spans",
        "docs/concepts/spans.md",
        "A span is one timed step of work, such as an LLM call, a retrieval or a tool call."
        " Spans nest by parent id into a trace, and each span records its start, duration,"
        " status and attributes.",
    ),
    Article(
        "otel-context",
        "docs/concepts/context.md",
        "OpenTelemetry context propagation carries the current trace from one function, thread"
        " or service to the next, so that work done elsewhere joins the same trace.",
    ),
    Article(
        "otlp",
        "docs/concepts/otlp.md",
        "OTLP is the wire protocol of OpenTelemetry. Exporters send traces over gRPC (port"
        " 4317) or HTTP with protobuf or JSON bodies (port 4318).",
    ),
    Article(
        "genai-conventions",
        "docs/concepts/genai-conventions.md",
        "The GenAI semantic conventions name the attributes of model calls: gen_ai.request.model,"
        " gen_ai.usage.input_tokens, gen_ai.usage.output_tokens and the prompt and completion"
        " messages.",
    ),
    Article(
        "rag",
        "docs/guides/rag.md",
        "Retrieval-augmented generation (RAG) first retrieves the documents most relevant to a"
        " question from a knowledge base, then passes them to the model with the question, so"
        " that the answer is grounded in those documents instead of the model's memory.",
    ),
    Article(
        "embeddings",
        "docs/guides/embeddings.md",
        "An embedding model maps text to a vector of numbers; texts with similar meaning get"
        " vectors that lie close together, which vector databases use for semantic search.",
    ),
    Article(
        "bm25",
        "docs/guides/keyword-search.md",
        "BM25 ranks documents by the query words they contain, weighting rare words more and"
        " dampening long documents; it needs no model and is a strong baseline for search.",
    ),
    Article(
        "tool-calls",
        "docs/guides/tools.md",
        "A tool call lets a model ask the application to run a function for it, such as a"
        " search or a calculator, and then answer with the function's result.",
    ),
    Article(
        "tokens-and-cost",
        "docs/guides/cost.md",
        "An LLM call's cost is counted in tokens: input tokens for the prompt and output"
        " tokens for the completion, each at the model's own price per million tokens.",
    ),
    Article(
        "paris",
        "wiki/paris.md",
        "Paris, the capital of France, has a mild climate: cool, often rainy springs and"
        " autumns, and summers around 25 °C.",
    ),
    Article(
        "tokyo",
        "wiki/tokyo.md",
        "Tokyo is the capital of Japan and its largest city, with hot, humid summers and a"
        " rainy season in June.",
    ),
    Article(
        "tracepond",
        "docs/index.md",
        "tracepond stores agent traces in DuckDB and shows each one as a span tree beside a"
        " waterfall, with the model calls' messages, tokens and cost.",
    ),
]

# Weather the demo tool knows; any other city makes the tool fail (on purpose).
WEATHER: Final[dict[str, str]] = {"Paris": "14 °C, light rain", "Tokyo": "22 °C, clear sky"}


@dataclass(frozen=True)
class Question:
    text: str
    # The id of the document that answers it; None when the knowledge base has no answer.
    answered_by: str | None
    user: str  # the one asking, as the demo's sessions show them


QUESTIONS: Final[list[Question]] = [
    Question("What is a span?", "otel-spans", "maria.lopez@example.com"),
    Question("How does retrieval-augmented generation work?", "rag", "maria.lopez@example.com"),
    Question("What is the weather in Paris?", "paris", "kenji.sato@example.com"),
    Question("What is the weather in Atlantis?", None, "kenji.sato@example.com"),
]
