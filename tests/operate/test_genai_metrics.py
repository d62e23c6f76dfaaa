"""GenAIMetrics on real decoded batches (the decoder's own Arrow tables): which spans a commit
counts when duplicates were dropped, the leaf rule, and the label cap."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.metrics._genai import GenAIMetrics
from tracepond.metrics._state import OTHER
from tracepond.model.records import WriteResult

BASE = 1_700_000_000_000_000_000


def llm_span(trace: bytes, model: str, tokens: int, parent: bytes = b"", **kw: Any) -> Any:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens,
        "gen_ai.usage.output_tokens": 1,
    }
    return make_span(
        trace,
        span_id(),
        f"chat {model}",
        parent=parent,
        start=BASE,
        end=BASE + 300_000_000,
        attributes=attributes,
        **kw,
    )


def table(spans: list[Any], service: str = "svc") -> pa.Table:
    rows = SpanDecoder(1 << 20).decode(make_request(spans, service=service)).rows
    return to_arrow(rows)


def usage(metrics: GenAIMetrics, **labels: str) -> float:
    names = ("model", "provider", "operation", "service", "token_type")
    out = 0.0
    for key, _buckets, total in metrics.snapshot().token_usage:
        found = dict(zip(names, key, strict=True))
        if all(found[k] == v for k, v in labels.items()):
            out += total
    return out


def test_counts_a_clean_commit() -> None:
    metrics = GenAIMetrics()
    batch = table([llm_span(trace_id(), "m1", 10), llm_span(trace_id(), "m2", 5)])
    metrics.observe(batch, WriteResult(inserted=2, duplicates=0))
    assert usage(metrics, model="m1", token_type="input") == 10
    assert usage(metrics, model="m2", token_type="input") == 5
    assert usage(metrics, operation="llm", provider="openai", service="svc") == 10 + 5 + 2
    snap = metrics.snapshot()
    assert snap.spans == {("llm", "svc"): 2.0}
    durations = snap.operation_duration
    assert sum(total for _, _, total in durations) == 0.6  # two calls of 300 ms
    # 300 ms falls in the 0.32 s bucket (cumulative from there on).
    buckets = dict(durations[0][1])
    assert buckets["0.16"] == 0 and buckets["0.32"] == 1 and buckets["+Inf"] == 1


def test_duplicates_within_the_commit_count_once() -> None:
    metrics = GenAIMetrics()
    span = llm_span(trace_id(), "m1", 10)
    batch = table([span, span])
    metrics.observe(batch, WriteResult(inserted=1, duplicates=1))
    assert usage(metrics, token_type="input") == 10
    assert metrics.snapshot().skipped_spans == 0


def test_a_commit_of_only_stored_spans_counts_nothing() -> None:
    metrics = GenAIMetrics()
    metrics.observe(table([llm_span(trace_id(), "m1", 10)]), WriteResult(0, 1))
    assert usage(metrics) == 0
    assert metrics.snapshot().spans == {}


def test_a_commit_mixing_new_and_stored_spans_is_skipped_and_counted_as_skipped() -> None:
    metrics = GenAIMetrics()
    batch = table([llm_span(trace_id(), "m1", 10), llm_span(trace_id(), "m1", 20)])
    metrics.observe(batch, WriteResult(inserted=1, duplicates=1))
    assert usage(metrics) == 0
    assert metrics.snapshot().skipped_spans == 1


def test_a_wrapper_llm_span_over_a_provider_span_counts_once() -> None:
    metrics = GenAIMetrics()
    tid = trace_id()
    wrapper = llm_span(tid, "m1", 10)
    provider = llm_span(tid, "m1", 10, parent=wrapper.span_id)
    metrics.observe(table([wrapper, provider]), WriteResult(2, 0))
    assert usage(metrics, token_type="input") == 10
    # Both are LLM spans for the span counters.
    assert metrics.snapshot().spans == {("llm", "svc"): 2.0}


def test_label_values_past_the_cap_become_other() -> None:
    metrics = GenAIMetrics(max_label_values=3)
    spans = [llm_span(trace_id(), f"model-{i}", 1) for i in range(10)]
    metrics.observe(table(spans), WriteResult(10, 0))
    models = {key[0] for key, _, _ in metrics.snapshot().token_usage}
    assert len(models) == 4
    assert OTHER in models
    assert usage(metrics, token_type="input") == 10  # nothing lost, only folded
    assert metrics.snapshot().folded["model"] > 0


def test_errors_and_unknown_labels() -> None:
    metrics = GenAIMetrics()
    tid = trace_id()
    spans = [
        make_span(tid, span_id(), "plain", status_code=2),
        make_span(tid, span_id(), "plain2"),
    ]
    metrics.observe(table(spans), WriteResult(2, 0))
    snap = metrics.snapshot()
    assert snap.spans == {("unknown", "svc"): 2.0}
    assert snap.errors == {("unknown", "svc"): 1.0}
    assert snap.token_usage == []


def test_label_combinations_past_the_series_cap_become_all_other(
    monkeypatch: Any,
) -> None:
    from tracepond.metrics import _state

    monkeypatch.setattr(_state, "MAX_SERIES", 2)
    metrics = GenAIMetrics()
    spans = [llm_span(trace_id(), f"model-{i}", 1) for i in range(5)]
    metrics.observe(table(spans), WriteResult(5, 0))
    input_keys = {key for key, _, _ in metrics.snapshot().token_usage}
    assert (OTHER, OTHER, OTHER, OTHER, OTHER) in input_keys
    assert len(input_keys) <= 3  # two admitted series, then the all-other one
    assert usage(metrics) == 5 + 5  # every token still counted (input + output)
