"""RAG-shaped OTLP trace requests for the load generator, built once and re-stamped cheaply.

A *template* is one serialized ``ExportTraceServiceRequest`` of ``traces_per_request`` traces of
16 spans each (agent root, chains, query-rewrite LLM call, embedding, retriever with 5 documents
of ~500 bytes, tool + HTTP call, answer LLM call). Each template trace carries a random marker
trace id; the serialized bytes are split at every marker so that a request with fresh trace ids
is one ``b"".join`` (no protobuf work in the senders).

Trace ids are ``prefix (8 random bytes) + trace number (8 bytes, big-endian)``, so request ``k``
holds traces ``k * traces_per_request ...`` and every id of the run is known without storing it.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

SPANS_PER_TRACE = 16
KIND_INTERNAL = Span.SpanKind.SPAN_KIND_INTERNAL
KIND_CLIENT = Span.SpanKind.SPAN_KIND_CLIENT

_WORD_TEXT = (
    "the a of to and in that is for on with as by from at this an be are was it or which "
    "system model data query vector index document retrieval answer context latency cost "
    "token budget agent planner tool search engine database cache memory embedding score "
    "rank relevance user question customer invoice payment refund policy shipping order "
    "account password reset warranty product release version upgrade migration cluster node "
    "replica shard storage backup restore region network timeout retry error exception log "
    "trace span metric dashboard alert threshold window quarter revenue forecast report "
    "team engineer manager review approval deadline contract clause liability notice "
    "termination patient dosage clinical trial study result sample protocol safety adverse "
    "event therapy river mountain climate rainfall temperature season harvest crop soil "
    "forest coastal city museum history century empire treaty election parliament court "
    "ruling statute amendment quickly carefully usually rarely often never always still "
    "already however therefore because although unless while after before during between "
    "across within without important recent detailed simple complex reliable secure "
    "expensive cheap fast slow new old large small primary secondary internal external "
    "public private final initial"
)
_WORDS = _WORD_TEXT.split()

_TOPICS = (
    "refund policy for damaged items",
    "resetting a forgotten password",
    "quarterly revenue forecast",
    "database replica failover",
    "clinical trial safety protocol",
    "contract termination clause",
    "rainfall patterns in coastal regions",
    "upgrading the cluster to the new release",
    "shipping times for international orders",
    "warranty coverage for batteries",
    "history of the treaty negotiations",
    "alert thresholds for latency dashboards",
)

_MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet-20241022", "llama-3.1-70b-instruct")
_PROVIDERS = {"gpt-4o": "openai", "gpt-4o-mini": "openai"}


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 18))
    return " ".join(words).capitalize() + "."


def _text(rng: random.Random, size: int) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        sentence = _sentence(rng)
        parts.append(sentence)
        length += len(sentence) + 1
    return " ".join(parts)[:size]


def _value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, list | tuple):
        out = AnyValue()
        out.array_value.values.extend(_value(v) for v in value)
        return out
    return AnyValue(string_value=str(value))


def _attrs(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=_value(v)) for k, v in values.items()]


def _messages(*pairs: tuple[str, str]) -> str:
    return json.dumps(
        [{"role": role, "parts": [{"type": "text", "content": text}]} for role, text in pairs]
    )


class _TraceBuilder:
    """Builds the 16 spans of one RAG trace; spans are laid out in time like a real run."""

    def __init__(self, rng: random.Random, trace_id: bytes, start_ns: int) -> None:
        self.rng = rng
        self.trace_id = trace_id
        self.clock = start_ns
        self.spans: list[Span] = []

    def span_id(self) -> bytes:
        return self.rng.randbytes(7) + b"\x01"  # never all zero

    def add(
        self,
        name: str,
        parent: Span | None,
        attributes: dict[str, Any],
        duration_ms: float,
        kind: int = KIND_INTERNAL,
    ) -> Span:
        start = self.clock
        self.clock += int(duration_ms * 1e6)
        span = Span(
            trace_id=self.trace_id,
            span_id=self.span_id(),
            parent_span_id=parent.span_id if parent is not None else b"",
            name=name,
            kind=kind,
            start_time_unix_nano=start,
            end_time_unix_nano=self.clock,
            attributes=_attrs(attributes),
            status=Status(code=Status.StatusCode.STATUS_CODE_OK),
            flags=0x100,
        )
        self.spans.append(span)
        return span

    def close(self, span: Span, extra_ms: float = 0.5) -> None:
        """Stretch ``span`` to cover everything added since it started."""
        self.clock += int(extra_ms * 1e6)
        span.end_time_unix_nano = self.clock


def _llm_attrs(rng: random.Random, model: str, messages: str, answer: str) -> dict[str, Any]:
    input_tokens = len(messages) // 4
    output_tokens = len(answer) // 4
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": _PROVIDERS.get(model, "anthropic" if "claude" in model else "vllm"),
        "gen_ai.request.model": model,
        "gen_ai.response.model": model + "-2024-08-06" if model.startswith("gpt") else model,
        "gen_ai.response.id": f"chatcmpl-{rng.getrandbits(64):016x}",
        "gen_ai.request.temperature": round(rng.uniform(0, 1), 2),
        "gen_ai.request.max_tokens": 1024,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.input.messages": messages,
        "gen_ai.output.messages": json.dumps(
            [
                {
                    "role": "assistant",
                    "parts": [{"type": "text", "content": answer}],
                    "finish_reason": "stop",
                }
            ]
        ),
        "server.address": "api.example.com",
    }


def build_trace(rng: random.Random, trace_id: bytes, start_ns: int) -> list[Span]:
    """One RAG agent run: 16 spans."""
    topic = rng.choice(_TOPICS)
    question = f"What does our documentation say about {topic}? {_sentence(rng)}"
    model = rng.choice(_MODELS)
    b = _TraceBuilder(rng, trace_id, start_ns)
    root = b.add(
        "invoke_agent rag-agent",
        None,
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "rag-agent",
            "gen_ai.agent.id": "agent-7",
            "gen_ai.conversation.id": f"conv-{rng.getrandbits(32):08x}",
            "session.id": f"session-{rng.randrange(5000)}",
            "user.id": f"user-{rng.randrange(900)}",
            "gen_ai.input.messages": _messages(("user", question)),
        },
        0.2,
    )
    b.add("memory.load", root, {"memory.kind": "conversation", "memory.turns": 4}, 1.5)
    plan = b.add("chain plan", root, {"chain.name": "plan", "chain.step": 1}, 0.1)
    rewrite_prompt = _messages(
        ("system", "Rewrite the user question as a standalone search query."),
        ("user", question),
    )
    rewritten = f"{topic} {_sentence(rng)}"
    b.add(
        f"chat {_MODELS[1]}",
        plan,
        _llm_attrs(rng, _MODELS[1], rewrite_prompt, rewritten),
        rng.uniform(250, 700),
        KIND_CLIENT,
    )
    b.close(plan)
    retrieve = b.add("chain retrieve_context", root, {"chain.name": "retrieve_context"}, 0.1)
    b.add(
        "embeddings text-embedding-3-small",
        retrieve,
        {
            "gen_ai.operation.name": "embeddings",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "text-embedding-3-small",
            "gen_ai.usage.input_tokens": len(rewritten) // 4,
            "gen_ai.embeddings.dimension.count": 1536,
        },
        rng.uniform(30, 90),
        KIND_CLIENT,
    )
    docs = [
        {
            "id": f"doc-{rng.randrange(100_000)}",
            "score": round(rng.uniform(0.5, 0.95), 4),
            "content": _text(rng, rng.randint(440, 560)),
            "metadata": {"source": f"kb/{topic.split()[0]}/{rng.randrange(300)}.md"},
        }
        for _ in range(5)
    ]
    docs.sort(key=lambda d: -float(d["score"]))
    b.add(
        "retrieve vector_store",
        retrieve,
        {
            "gen_ai.operation.name": "retrieval",
            "gen_ai.data_source.id": "kb-docs",
            "gen_ai.request.top_k": 5,
            "gen_ai.retrieval.query.text": rewritten,
            "gen_ai.retrieval.documents": json.dumps(docs),
            "db.system.name": "duckdb",
        },
        rng.uniform(8, 40),
    )
    b.add("chain rerank", retrieve, {"chain.name": "rerank", "rerank.top_n": 3}, 2.0)
    b.close(retrieve)
    tool_args = json.dumps({"query": topic, "max_results": 3})
    tool_result = json.dumps([{"title": _sentence(rng), "url": "https://example.com/a"}])
    tool = b.add(
        "execute_tool web_search",
        root,
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "web_search",
            "gen_ai.tool.type": "function",
            "gen_ai.tool.call.id": f"call_{rng.getrandbits(48):012x}",
            "gen_ai.tool.call.arguments": tool_args,
            "gen_ai.tool.call.result": tool_result,
        },
        0.3,
    )
    b.add(
        "GET",
        tool,
        {
            "http.request.method": "GET",
            "url.full": "https://search.example.com/v1?q=" + topic.replace(" ", "+"),
            "http.response.status_code": 200,
            "server.address": "search.example.com",
        },
        rng.uniform(80, 300),
        KIND_CLIENT,
    )
    b.close(tool)
    b.add("chain format_prompt", root, {"chain.name": "format_prompt"}, 0.4)
    context = "\n\n".join(str(d["content"]) for d in docs[:3])
    answer_prompt = _messages(
        ("system", "Answer from the context only. Cite document ids."),
        ("user", f"Context:\n{context}\n\nQuestion: {question}"),
    )
    answer = _text(rng, rng.randint(300, 700))
    generate = b.add("chain generate", root, {"chain.name": "generate"}, 0.1)
    b.add(
        f"chat {model}",
        generate,
        _llm_attrs(rng, model, answer_prompt, answer),
        rng.uniform(900, 2500),
        KIND_CLIENT,
    )
    b.add("chain parse_output", generate, {"chain.name": "parse_output"}, 0.3)
    b.close(generate)
    b.add("chain guardrail", root, {"chain.name": "guardrail", "guardrail.passed": True}, 3.0)
    b.add("memory.save", root, {"memory.kind": "conversation"}, 1.2)
    b.close(root)
    assert len(b.spans) == SPANS_PER_TRACE, len(b.spans)
    return b.spans


@dataclass(frozen=True)
class Template:
    """A serialized request split at its trace ids: ``pieces[i]`` precedes id slot ``i``."""

    pieces: tuple[bytes, ...]
    slots: tuple[int, ...]  # trace index (0..traces-1) of each id slot
    traces: int
    size: int

    def render(self, ids: list[bytes]) -> bytes:
        parts: list[bytes] = []
        pieces = self.pieces
        for i, trace in enumerate(self.slots):
            parts.append(pieces[i])
            parts.append(ids[trace])
        parts.append(pieces[-1])
        return b"".join(parts)


def build_template(seed: int, traces: int, service: str, start_ns: int | None = None) -> Template:
    """A request of ``traces`` traces, 250 ms apart from ``start_ns`` (default: an hour ago plus
    ``seed`` seconds)."""
    rng = random.Random(seed)
    markers = [os.urandom(16) for _ in range(traces)]
    start = time.time_ns() - 3_600_000_000_000 + seed * 1_000_000_000
    if start_ns is not None:
        start = start_ns
    request = ExportTraceServiceRequest()
    resource_spans: ResourceSpans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(
        _attrs(
            {
                "service.name": service,
                "service.version": "1.4.2",
                "deployment.environment.name": "bench",
                "telemetry.sdk.name": "opentelemetry",
                "telemetry.sdk.language": "python",
                "telemetry.sdk.version": "1.38.0",
                "host.name": f"worker-{seed % 4}",
            }
        )
    )
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "tracepond.bench"
    scope_spans.scope.version = "0.1.0"
    for index, marker in enumerate(markers):
        scope_spans.spans.extend(build_trace(rng, marker, start + index * 250_000_000))
    body = request.SerializeToString()
    # Split at every marker occurrence.
    found: list[tuple[int, int]] = []
    for index, marker in enumerate(markers):
        pos = body.find(marker)
        while pos != -1:
            found.append((pos, index))
            pos = body.find(marker, pos + 16)
    found.sort()
    if len(found) != traces * SPANS_PER_TRACE:
        raise RuntimeError(f"expected {traces * SPANS_PER_TRACE} trace ids, found {len(found)}")
    pieces: list[bytes] = []
    last = 0
    for pos, _ in found:
        pieces.append(body[last:pos])
        last = pos + 16
    pieces.append(body[last:])
    return Template(tuple(pieces), tuple(i for _, i in found), traces, len(body))


class TraceIds:
    """Trace ids of the run: ``prefix + number``; request ``k`` owns a contiguous range."""

    def __init__(self, traces_per_request: int) -> None:
        self.prefix = os.urandom(8)
        self.per_request = traces_per_request

    def trace_id(self, number: int) -> bytes:
        return self.prefix + number.to_bytes(8, "big")

    def for_request(self, request: int) -> list[bytes]:
        first = request * self.per_request
        return [self.trace_id(first + i) for i in range(self.per_request)]


def bodies(templates: list[Template], ids: TraceIds, requests: Iterator[int]) -> Iterator[bytes]:
    for k in requests:
        yield templates[k % len(templates)].render(ids.for_request(k))


class SpreadTemplates:
    """Templates whose traces start spread evenly over the ``hours`` before now, as a store
    filled by a day of traffic holds them: request ``k`` of ``requests`` gets time slot
    ``k * slots // requests`` (older first) and seed ``k % seeds``. A slot's templates are built
    on first use and dropped two slots later (senders take requests in about their order)."""

    def __init__(
        self, seeds: int, traces: int, requests: int, hours: float, slots: int = 96
    ) -> None:
        self.seeds, self.traces, self.requests, self.slots = seeds, traces, requests, slots
        self.first_ns = time.time_ns() - int(hours * 3_600_000_000_000)
        self.slot_ns = int(hours * 3_600_000_000_000) // slots
        self._built: dict[tuple[int, int], Template] = {}
        self._lock = threading.Lock()

    def __call__(self, k: int) -> Template:
        slot, seed = min(k * self.slots // self.requests, self.slots - 1), k % self.seeds
        with self._lock:
            template = self._built.get((slot, seed))
            if template is None:
                start = self.first_ns + slot * self.slot_ns + seed * 1_000_000_000
                template = build_template(seed, self.traces, f"rag-service-{seed % 3}", start)
                self._built[(slot, seed)] = template
                for old in [key for key in self._built if key[0] < slot - 1]:
                    del self._built[old]
            return template
