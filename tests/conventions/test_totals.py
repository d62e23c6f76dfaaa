"""trace_totals: tokens and cost counted once per LLM call (pitfall 2)."""

from __future__ import annotations

from tracepond.conventions import SpanView, Usage, trace_totals


def _llm(
    tokens: tuple[int, int] | None, model: str | None = None, cost: float | None = None
) -> SpanView:
    usage = Usage() if tokens is None else Usage(tokens[0], tokens[1], sum(tokens))
    return SpanView(category="llm", model=model, usage=usage, cost=cost)


def test_framework_span_and_provider_span_count_once() -> None:
    rows = [
        ("agent", None, SpanView(category="agent", usage=Usage(500, 50, 550), session_id="s1")),
        ("lc", "agent", _llm((100, 10), "gpt-4o", cost=0.5)),  # LangChain span
        ("oa", "lc", _llm((100, 10), "gpt-4o-2024-08-06", cost=0.5)),  # provider span below
        ("tool", "agent", SpanView(category="tool")),
        ("lc2", "agent", _llm((7, 3), "gpt-4o", cost=0.25)),  # a second call, leaf itself
        ("ret", "agent", SpanView(category="retriever", user_id="u1")),
    ]
    totals = trace_totals(rows)
    assert (totals.input_tokens, totals.output_tokens, totals.total_tokens) == (107, 13, 120)
    assert totals.cost == 0.75
    assert (totals.llm_steps, totals.tool_steps, totals.retriever_steps) == (2, 1, 1)
    assert totals.models == ["gpt-4o-2024-08-06", "gpt-4o"]  # leaf spans' models only
    assert (totals.session_id, totals.user_id) == ("s1", "u1")


def test_framework_usage_counts_when_the_child_reports_none() -> None:
    rows = [("lc", None, _llm((100, 10))), ("oa", "lc", _llm(None))]
    totals = trace_totals(rows)
    assert totals.input_tokens == 100
    assert totals.llm_steps == 1  # the leaf LLM span is the step


def test_orphans_cycles_and_empty_input() -> None:
    assert trace_totals([]).input_tokens == 0
    rows = [("a", "b", _llm((1, 1))), ("b", "a", _llm((2, 2))), ("c", "missing", _llm((3, 3)))]
    totals = trace_totals(rows)  # must terminate; the cycle counts nothing twice
    assert totals.input_tokens == 3
    assert totals.cost is None


def test_embedding_spans_count_as_usage() -> None:
    rows = [
        ("e", None, SpanView(category="embedding", usage=Usage(input_tokens=5, total_tokens=5)))
    ]
    totals = trace_totals(rows)
    assert (totals.input_tokens, totals.total_tokens, totals.llm_steps) == (5, 5, 0)
