"""The conformance suite's shared dataset, and what every read of it must answer.

The dataset is declared here span by span, each with what the conventions derive from its
attributes (category, model, tokens, cost, documents, tool): the helpers below build both from
one call, so the expected values never come from the store under test. ``Trace.summary()`` and
the oracles of the test modules compute, from these declarations alone, what a store returns.

Times are seconds after ``T0`` (a whole minute, so that 1-minute stats buckets are exact).
Writes come in rounds (one ``write`` call each): children before their parents, a trace spread
over several rounds, duplicates within one call and across calls, several projects per call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from ingest.otlp_build import BASE_NS, key_values, make_request, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.records import TraceSummary, WriteResult
from tracepond.model.spans import SpanBatch
from tracepond.projects import DEFAULT_PROJECT
from tracepond.store.contract import Store

S = 1_000_000_000
MINUTE = 60 * S
T0 = (BASE_NS // MINUTE + 1) * MINUTE
MISSING = "missing"  # the parent key of a span whose parent never arrives
ERROR = 2
DECODER = SpanDecoder(max_attribute_bytes=1 << 20)
ACME = "acme"
EMPTY = "empty"
ACME_DESCRIPTION = "the acme team"
ACME_RETENTION_NS = 7 * 24 * 3600 * S


@dataclass
class SpanSpec:
    """One span, and what the store must derive for it."""

    key: str
    name: str
    start_ns: int
    end_ns: int
    parent: str | None = None  # a key of the same trace, MISSING, or None (a root)
    service: str | None = None  # None: the trace's
    attributes: dict[str, Any] = field(default_factory=dict)
    status_code: int = 0
    status_message: str = ""
    kind: int = Span.SPAN_KIND_INTERNAL
    events: tuple[tuple[str, dict[str, Any]], ...] = ()
    write: int = 0  # the round that writes it
    # Derived by the conventions:
    category: str = "unknown"
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost: float | None = None
    document_count: int | None = None
    tool_name: str | None = None
    span_id: bytes = field(default_factory=span_id)

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def is_error(self) -> bool:
        return self.status_code == ERROR


@dataclass
class Trace:
    name: str
    service: str
    spans: list[SpanSpec]
    project: str = DEFAULT_PROJECT
    session_id: str | None = None
    user_id: str | None = None
    tags: tuple[str, ...] = ()
    trace_id: bytes = field(default_factory=trace_id)

    def span(self, key: str) -> SpanSpec:
        return next(s for s in self.spans if s.key == key)

    def service_of(self, span: SpanSpec) -> str:
        return span.service or self.service

    def parent_id(self, span: SpanSpec) -> bytes | None:
        if span.parent is None:
            return None
        if span.parent == MISSING:
            return b"\xee" * 8
        return self.span(span.parent).span_id

    def summary(self, written: int | None = None) -> TraceSummary:
        """The summary once rounds up to ``written`` (None: all) are stored."""
        spans = [s for s in self.spans if written is None or s.write <= written]
        return summarize(self, spans)


def summarize(trace: Trace, spans: list[SpanSpec]) -> TraceSummary:
    """The contract's summary rules, computed from the declarations."""
    roots = [s for s in spans if s.parent is None]
    earliest = min(spans, key=_head_order)
    # The root span's name and service; while no root has arrived, the earliest span's. Among
    # several parentless spans, the earliest-starting one (ties: the smallest span id),
    # whatever order they arrived in; the stand-in likewise among all spans.
    stand_in = min(roots, key=_head_order) if roots else earliest
    counted = leaf_usage_spans(trace, spans)
    costs = [s.cost for s in counted if s.cost is not None]
    return TraceSummary(
        trace_id=trace.trace_id,
        root_span_id=stand_in.span_id if roots else None,
        root_name=stand_in.name,
        service_name=trace.service_of(stand_in),
        start_ns=earliest.start_ns,
        end_ns=max(s.end_ns for s in spans),
        span_count=len(spans),
        error_count=sum(s.is_error for s in spans),
        input_tokens=sum(s.input_tokens or 0 for s in counted),
        output_tokens=sum(s.output_tokens or 0 for s in counted),
        total_tokens=sum(s.total_tokens or 0 for s in counted),
        cost=sum(costs) if costs else None,
        models=sorted({s.model for s in leaf_inference_spans(trace, spans) if s.model}),
        session_id=_context_value(spans, "session.id"),
        user_id=_context_value(spans, "user.id"),
        llm_count=sum(s.category == "llm" for s in leaf_inference_spans(trace, spans)),
        tool_count=sum(s.category == "tool" for s in spans),
        retriever_count=sum(s.category == "retriever" for s in spans),
    )


def _head_order(span: SpanSpec) -> tuple[int, bytes]:
    return span.start_ns, span.span_id


INFERENCE = ("llm", "embedding")


def _context_value(spans: list[SpanSpec], key: str) -> str | None:
    """A trace's session or user: the root's when it has one, else another span's."""
    roots_first = sorted(spans, key=lambda s: s.parent is not None)
    return next((s.attributes[key] for s in roots_first if key in s.attributes), None)


def comparable(summary: TraceSummary) -> TraceSummary:
    """A summary without what the contract leaves open: the order of ``models``, the last bits
    of a float sum (stores add costs in any order), and the previews only search fills."""
    cost = None if summary.cost is None else round(summary.cost, 9)
    return replace(
        summary,
        models=sorted(summary.models),
        cost=cost,
        input_preview=None,
        output_preview=None,
        tags=(),
    )


def _descendants(trace: Trace, spans: list[SpanSpec], span: SpanSpec) -> list[SpanSpec]:
    below = [s for s in spans if s.parent == span.key]
    return below + [d for s in below for d in _descendants(trace, spans, s)]


def leaf_usage_spans(trace: Trace, spans: list[SpanSpec]) -> list[SpanSpec]:
    """Leaf-only totals (conventions/_totals.py): tokens and cost count on LLM/embedding spans
    with usage that have no LLM/embedding descendant with usage, so a framework span and the
    provider span below it, which report the same call, count once."""

    def has_usage(s: SpanSpec) -> bool:
        return s.category in INFERENCE and s.total_tokens is not None

    return [
        s
        for s in spans
        if has_usage(s) and not any(has_usage(d) for d in _descendants(trace, spans, s))
    ]


def leaf_inference_spans(trace: Trace, spans: list[SpanSpec]) -> list[SpanSpec]:
    """LLM steps and models count on inference spans with no inference span below them."""
    return [
        s
        for s in spans
        if s.category in INFERENCE
        and not any(d.category in INFERENCE for d in _descendants(trace, spans, s))
    ]


# -- span builders: attributes and what they derive, from one call ----------------------------


def at(start_s: float, duration_s: float) -> tuple[int, int]:
    start = T0 + round(start_s * S)
    return start, start + round(duration_s * S)


def span(
    key: str, name: str, start_s: float, duration_s: float, parent: str | None = None, **kw: Any
) -> SpanSpec:
    start, end = at(start_s, duration_s)
    return SpanSpec(key, name, start, end, parent, **kw)


def llm(
    key: str,
    name: str,
    start_s: float,
    duration_s: float,
    parent: str | None,
    model: str,
    tokens: tuple[int, int],
    cost: float | None = None,
    **kw: Any,
) -> SpanSpec:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens[0],
        "gen_ai.usage.output_tokens": tokens[1],
        **kw.pop("attributes", {}),
    }
    if cost is not None:
        attributes["gen_ai.usage.cost"] = cost
    return span(
        key,
        name,
        start_s,
        duration_s,
        parent,
        attributes=attributes,
        category="llm",
        model=model,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cost=cost,
        **kw,
    )


def embedding(
    key: str,
    name: str,
    start_s: float,
    duration_s: float,
    parent: str,
    model: str,
    tokens: int,
    cost: float,
) -> SpanSpec:
    attributes = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens,
        "gen_ai.usage.cost": cost,
    }
    return span(
        key,
        name,
        start_s,
        duration_s,
        parent,
        attributes=attributes,
        category="embedding",
        model=model,
        input_tokens=tokens,
        cost=cost,
    )


def retriever(
    key: str,
    name: str,
    start_s: float,
    duration_s: float,
    parent: str,
    documents: list[str],
    top_k: int,
    **kw: Any,
) -> SpanSpec:
    attributes = {
        "gen_ai.retrieval.documents": json.dumps(
            [{"id": str(i), "content": text} for i, text in enumerate(documents)]
        ),
        "gen_ai.retrieval.query.text": "capital of France",
        "retrieval.top_k": top_k,
    }
    return span(
        key,
        name,
        start_s,
        duration_s,
        parent,
        attributes=attributes,
        category="retriever",
        # An empty document list derives no count (search counts it as 0, see DOCUMENT_COUNT).
        document_count=len(documents) or None,
        **kw,
    )


def tool(
    key: str, name: str, start_s: float, duration_s: float, parent: str, **kw: Any
) -> SpanSpec:
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        **kw.pop("attributes", {}),
    }
    return span(
        key,
        name,
        start_s,
        duration_s,
        parent,
        attributes=attributes,
        category="tool",
        tool_name=name,
        **kw,
    )


def agent(key: str, name: str, start_s: float, duration_s: float, **kw: Any) -> SpanSpec:
    attributes = {"gen_ai.operation.name": "invoke_agent", **kw.pop("attributes", {})}
    return span(key, name, start_s, duration_s, attributes=attributes, category="agent", **kw)


def context(session: str | None, user: str | None, tags: Iterable[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if session:
        out["session.id"] = session
    if user:
        out["user.id"] = user
    if tags:
        out["tracepond.tags"] = list(tags)
    return out


# -- the dataset --------------------------------------------------------------------------------


def build_traces() -> dict[str, Trace]:
    traces = [
        # A RAG pipeline over two writes, the leaves first: an embedding below the retriever, a
        # framework LLM span over the provider span (both report the same call's usage).
        Trace(
            "rag_ok",
            "rag",
            [
                span(
                    "root",
                    "rag.pipeline",
                    0,
                    5,
                    write=1,
                    kind=Span.SPAN_KIND_SERVER,
                    attributes={
                        **context("sess-a", "alice", ["prod"]),
                        "tracepond.input": "What is the capital of France?\nThanks",
                        "tracepond.output": "The capital is Paris.",
                    },
                ),
                retriever(
                    "retrieve",
                    "vector.search",
                    0.1,
                    0.5,
                    "root",
                    ["Paris is the capital of France.", "The Eiffel Tower is in Paris."],
                    top_k=5,
                    write=1,
                ),
                embedding(
                    "embed",
                    "embed.query",
                    0.1,
                    0.1,
                    "retrieve",
                    "text-embedding-3-small",
                    8,
                    0.0001,
                ),
                llm("wrapper", "ChatOpenAI", 1, 2, "root", "gpt-4o", (100, 20), 0.5, write=1),
                llm(
                    "provider",
                    "openai.chat",
                    1,
                    2,
                    "wrapper",
                    "gpt-4o",
                    (100, 20),
                    0.5,
                    kind=Span.SPAN_KIND_CLIENT,
                ),
            ],
            session_id="sess-a",
            user_id="alice",
            tags=("prod",),
        ),
        Trace(
            "agent_err",
            "agent",
            [
                agent("root", "agent.run", 10, 4, attributes=context("sess-a", "alice")),
                llm("plan", "plan", 10.5, 0.5, "root", "claude-3-5-sonnet", (50, 10), 0.2),
                tool(
                    "search",
                    "search_web",
                    11,
                    1,
                    "root",
                    status_code=ERROR,
                    status_message="timeout",
                    attributes={"error.type": "TimeoutError", "http.status_code": 504},
                    events=(("exception", {"exception.message": "Connection RESET by peer"}),),
                ),
                llm("answer", "answer", 12, 1.5, "root", "claude-3-5-sonnet", (30, 5), 0.1),
            ],
            session_id="sess-a",
            user_id="alice",
        ),
        Trace(
            "rag_empty",
            "rag",
            [
                span("root", "rag.pipeline", 20, 3, attributes=context("sess-b", "bob", ["beta"])),
                retriever("retrieve", "vector.search", 20.1, 0.2, "root", [], top_k=3),
                llm("chat", "chat", 21, 1.5, "root", "gpt-4o-mini", (40, 8), 0.01),
            ],
            session_id="sess-b",
            user_id="bob",
            tags=("beta",),
        ),
        # Two parentless spans: the earliest is the root, though it arrives after the other.
        Trace(
            "two_roots",
            "batch",
            [
                span("a", "job.a", 30, 1, write=1),
                span("b", "job.b", 31, 2),
                span("step", "job.step", 31.5, 0.5, "b", status_code=ERROR),
            ],
        ),
        # No root ever arrives; the later span comes first, from another service.
        Trace(
            "no_root",
            "worker",
            [
                span("late", "orphan.late", 41, 4, MISSING, service="worker-b"),
                span("early", "orphan.early", 40, 2, MISSING, write=1),
            ],
        ),
        # Written three times (rounds 0, 1 and twice in round 2): stored once.
        Trace(
            "dup",
            "rag",
            [
                span("root", "rag.pipeline", 60, 2),
                llm("chat", "chat", 61, 1, "root", "gpt-4o", (10, 2), 0.05),
            ],
        ),
        # An LLM call of a model without a price, that sent no cost: the trace's cost is None.
        Trace(
            "no_cost",
            "agent",
            [
                agent("root", "agent.run", 70, 5, attributes=context(None, "carol")),
                tool("calc", "calculator", 71, 1, "root"),
                llm("local", "local", 72, 2, "root", "local-llama", (20, 4)),
            ],
            user_id="carol",
        ),
        # Two traces starting at the same moment: pages break the tie by trace id.
        # Their sessions end at the same moment too: sessions break the tie by session id.
        Trace(
            "tie_a",
            "batch",
            [span("root", "cron.tick", 80, 1, attributes=context("sess-c", "dave"))],
            session_id="sess-c",
            user_id="dave",
            trace_id=b"\x01" * 16,
        ),
        Trace(
            "tie_b",
            "batch",
            [span("root", "cron.tick", 80, 1, attributes=context("sess-d", "dave"))],
            session_id="sess-d",
            user_id="dave",
            trace_id=b"\x02" * 16,
        ),
        # Texts that need escaping: a quote and a newline in JSON, LIKE's wildcards in a name.
        Trace(
            "quoted",
            "agent",
            [
                span("root", "agent.run", 90, 2, attributes={"note": 'He said "hello"\nthen left'}),
                span("call", "LLM call_50%", 90.5, 1, "root", write=1),
            ],
        ),
    ]
    rag_ok = traces[0]
    traces += [
        # The same trace id as rag_ok in another project: a different trace.
        Trace(
            "acme_rag",
            "acme-svc",
            [
                span("root", "acme.root", 5, 3, status_code=ERROR,
                     attributes=context("sess-a", "alice")),
                llm("chat", "chat", 6, 1, "root", "gpt-4o", (5, 5), 1.0),
            ],
            project=ACME,
            session_id="sess-a",
            user_id="alice",
            trace_id=rag_ok.trace_id,
        ),
        Trace("acme_late", "acme-svc", [span("root", "acme.tick", 100, 1)], project=ACME),
    ]  # fmt: skip
    return {trace.name: trace for trace in traces}


# -- writing it --------------------------------------------------------------------------------


def batch(trace: Trace, spans: list[SpanSpec], rename: str | None = None) -> SpanBatch:
    """The batch the ingest pipeline hands the store for ``spans`` (one request per service)."""
    built = []
    services = {trace.service_of(s) for s in spans}
    assert len(services) == 1, services
    for s in spans:
        proto = make_span(
            trace.trace_id,
            s.span_id,
            rename or s.name,
            parent=trace.parent_id(s) or b"",
            start=s.start_ns,
            end=s.end_ns,
            kind=s.kind,
            attributes=s.attributes,
            status_code=s.status_code,
            status_message=s.status_message,
        )
        for name, attributes in s.events:
            event = proto.events.add(name=name, time_unix_nano=s.start_ns)
            event.attributes.extend(key_values(attributes))
        built.append(proto)
    decoded = DECODER.decode(make_request(built, service=services.pop()))
    assert decoded.rejected == 0
    return batch_from_table(to_arrow(decoded.rows), decoded.rows.origins, trace.project)


def batches_of(trace: Trace, spans: list[SpanSpec]) -> list[SpanBatch]:
    by_service: dict[str, list[SpanSpec]] = {}
    for s in spans:
        by_service.setdefault(trace.service_of(s), []).append(s)
    return [batch(trace, group) for group in by_service.values()]


@dataclass
class Seeded:
    store: Store
    traces: dict[str, Trace]
    # What each write call returned, and what it should have (new spans, duplicates).
    results: list[tuple[WriteResult, WriteResult]]
    # Summaries and watermarks read after round 0 (before the later spans arrived).
    after_round0: dict[str, TraceSummary | None]
    watermarks_round0: dict[str, int | None]

    def __getitem__(self, name: str) -> Trace:
        return self.traces[name]

    def of(self, project: str = DEFAULT_PROJECT) -> list[Trace]:
        return [t for t in self.traces.values() if t.project == project]

    def names(self, trace_ids: Iterable[bytes], project: str = DEFAULT_PROJECT) -> list[str]:
        by_id = {t.trace_id: t.name for t in self.of(project)}
        return [by_id[i] for i in trace_ids]


ROUNDS = 3


def seed_store(store: Store) -> Seeded:
    traces = build_traces()
    store.projects_create(ACME, ACME_DESCRIPTION, ACME_RETENTION_NS)
    store.projects_create(EMPTY)
    seen: set[tuple[str, bytes, bytes]] = set()
    results: list[tuple[WriteResult, WriteResult]] = []

    def write(batches: list[SpanBatch]) -> None:
        keys = [
            (b.project, t, s)
            for b in batches
            for t, s in zip(
                b.table["trace_id"].to_pylist(), b.table["span_id"].to_pylist(), strict=True
            )
        ]
        fresh = len(set(keys) - seen)
        expected = WriteResult(inserted=fresh, duplicates=len(keys) - fresh)
        seen.update(keys)
        results.append((store.write(batches), expected))

    after_round0: dict[str, TraceSummary | None] = {}
    watermarks: dict[str, int | None] = {}
    dup = traces["dup"]
    for round_ in range(ROUNDS):
        batches = [
            b
            for trace in traces.values()
            for b in batches_of(trace, [s for s in trace.spans if s.write == round_])
        ]
        if round_ == 1:
            batches += batches_of(dup, dup.spans)  # an exporter retrying: across calls
            # Within one call: a second copy of a span (another name) after the first.
            quoted = traces["quoted"]
            batches.append(batch(quoted, [quoted.span("call")], rename="second copy"))
        if round_ == 2:
            batches += batches_of(dup, dup.spans) * 2
        write(batches)
        if round_ == 0:
            for name, trace in traces.items():
                after_round0[name] = store.trace_summary(trace.trace_id, trace.project)
                watermarks[name] = store.trace_watermark(trace.trace_id, trace.project)
    return Seeded(store, traces, results, after_round0, watermarks)
