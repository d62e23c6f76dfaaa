"""Trace-level stats (``trace_stats``, ``/api/stats?level=trace``) through every store:
a trace counts once whatever its span count, errors are traces with an error span, latency is
the trace's duration, tokens and cost count each LLM call once (leaf calls only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id
from tracepond.conventions import batch_from_table
from tracepond.errors import InvalidRequest
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.filters import Filters
from tracepond.model.records import StatsRequest, StatsRow
from tracepond.query.filters import parse_query
from tracepond.query.service import QueryService
from tracepond.store.contract import Store

from .conftest import StoreFactory

S = 1_000_000_000
MINUTE = 60 * S
DECODER = SpanDecoder(max_attribute_bytes=1 << 20)


def llm(model: str, tokens_in: int, tokens_out: int, cost: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
    }
    if cost is not None:
        out["gen_ai.usage.cost"] = cost
    return out


@dataclass
class Seeded:
    store: Store
    ids: dict[str, str] = field(default_factory=dict)


def write(store: Store, spans: list[Any], service: str) -> None:
    batch = DECODER.decode(make_request(spans, service=service))
    assert batch.rejected == 0
    store.write([batch_from_table(to_arrow(batch.rows), batch.rows.origins)])


@pytest.fixture(scope="module")
def stats_seed(factory: StoreFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """In minute 0: ``a`` (svc-a, 4 s, 5 spans, a framework LLM span over a provider span, both
    reporting 100/20 tokens) and ``b`` (svc-a, 2 s, 3 spans, two models, an error span).
    In minute 1: ``c`` (svc-b, 1 s, root only). Before the range: ``old``."""
    store = factory(tmp_path_factory.mktemp("stats"))
    out = Seeded(store)

    t, root, wrapper = trace_id(), span_id(), span_id()
    spans = [
        make_span(t, root, "agent", start=BASE_NS, end=BASE_NS + 4 * S),
        make_span(t, wrapper, "ChatOpenAI", parent=root, start=BASE_NS + S,
                  end=BASE_NS + 2 * S, attributes=llm("gpt-4o", 100, 20, 0.5)),
        make_span(t, span_id(), "openai.chat", parent=wrapper, start=BASE_NS + S,
                  end=BASE_NS + 2 * S, attributes=llm("gpt-4o", 100, 20, 0.5)),
        make_span(t, span_id(), "step", parent=root, start=BASE_NS + 2 * S, end=BASE_NS + 3 * S),
        make_span(t, span_id(), "step", parent=root, start=BASE_NS + 3 * S, end=BASE_NS + 4 * S),
    ]  # fmt: skip
    write(store, spans, "svc-a")
    out.ids["a"] = t.hex()

    t, root, start = trace_id(), span_id(), BASE_NS + 30 * S
    spans = [
        make_span(t, root, "agent", start=start, end=start + 2 * S),
        make_span(t, span_id(), "chat", parent=root, start=start, end=start + S,
                  attributes=llm("gpt-4o", 10, 1)),
        make_span(t, span_id(), "chat", parent=root, start=start + S, end=start + 2 * S,
                  attributes={**llm("claude-3", 5, 2), "tracepond.tags": ["beta"]},
                  status_code=2),
    ]  # fmt: skip
    write(store, spans, "svc-a")
    out.ids["b"] = t.hex()

    t, start = trace_id(), BASE_NS + 70 * S
    write(store, [make_span(t, span_id(), "ping", start=start, end=start + S)], "svc-b")
    out.ids["c"] = t.hex()

    t, start = trace_id(), BASE_NS - 10 * S
    write(store, [make_span(t, span_id(), "agent", start=start, end=start + 11 * S)], "svc-a")
    out.ids["old"] = t.hex()
    yield out
    store.close()


def request(
    bucket: int | None = MINUTE, group_by: str | None = None, **filters: Any
) -> StatsRequest:
    return StatsRequest(Filters(**filters), BASE_NS, BASE_NS + 2 * MINUTE, bucket, group_by)


def by_key(rows: list[StatsRow]) -> dict[tuple[int, Any], StatsRow]:
    first_minute = BASE_NS // MINUTE * MINUTE  # buckets start on the minute, in UTC
    return {(r.bucket_start_ns - first_minute, r.group): r for r in rows}


def test_traces_per_bucket_count_traces_not_spans(stats_seed: Seeded) -> None:
    rows = by_key(stats_seed.store.trace_stats(request()))
    assert set(rows) == {(0, None), (MINUTE, None)}
    first = rows[(0, None)]
    assert (first.count, first.error_count) == (2, 1)
    # Trace durations 4 s and 2 s.
    assert (first.p50_ns, first.p95_ns) == (3 * S, pytest.approx(3.9 * S))
    # The framework span and the provider span below it report one call: counted once.
    assert (first.input_tokens, first.output_tokens) == (115, 23)
    # Plus b's gpt-4o call, which sent no cost: priced from the bundled table ($2.50 and $10
    # per million input and output tokens).
    assert first.cost == pytest.approx(0.5 + (10 * 2.5 + 1 * 10) / 1e6)
    second = rows[(MINUTE, None)]
    assert (second.count, second.error_count, second.p99_ns) == (1, 0, S)
    assert (second.input_tokens, second.cost) == (0, None)
    # The same range at span level: 8 spans in minute 0, tokens of both LLM spans of ``a``.
    spans = by_key(stats_seed.store.stats(request()))[(0, None)]
    assert (spans.count, spans.input_tokens) == (8, 215)


def test_one_bucket_and_groups(stats_seed: Seeded) -> None:
    (total,) = stats_seed.store.trace_stats(request(bucket=None))
    assert (total.bucket_start_ns, total.count, total.error_count) == (BASE_NS, 3, 1)
    services = by_key(stats_seed.store.trace_stats(request(bucket=None, group_by="service")))
    assert {g: r.count for (_, g), r in services.items()} == {"svc-a": 2, "svc-b": 1}
    names = by_key(stats_seed.store.trace_stats(request(bucket=None, group_by="name")))
    assert {g: r.count for (_, g), r in names.items()} == {"agent": 2, "ping": 1}
    models = by_key(stats_seed.store.trace_stats(request(bucket=None, group_by="model")))
    assert {g: (r.count, r.error_count) for (_, g), r in models.items()} == {
        None: (1, 0),
        "claude-3": (1, 1),
        "gpt-4o": (2, 1),
    }
    # With a model filter, only that model's group (its traces may have used others too).
    only = stats_seed.store.trace_stats(request(bucket=None, group_by="model", model="claude-3"))
    assert [(r.group, r.count) for r in only] == [("claude-3", 1)]


def test_filters_select_traces_as_trace_search_does(stats_seed: Seeded) -> None:
    def count(**filters: Any) -> int:
        return sum(r.count for r in stats_seed.store.trace_stats(request(**filters)))

    assert count(service="svc-b") == 1
    assert count(status="error") == 1 and count(status="ok") == 2
    assert count(model="gpt-4o") == 2
    assert count(min_duration_ns=3 * S) == 1
    assert count(tag="beta") == 1  # a span-level predicate: a semi-join on spans
    assert count(query=parse_query('{ name = "openai.chat" }')) == 1
    assert count(query=parse_query('{ name = "nothing like this" }')) == 0
    assert count(session_id="nobody") == 0


def test_query_service_validates_and_keeps_span_level_default(stats_seed: Seeded) -> None:
    service = QueryService(stats_seed.store)
    window = Filters(since_ns=BASE_NS, until_ns=BASE_NS + 2 * MINUTE)
    traces = service.stats(window, MINUTE, None, "trace")
    assert traces["level"] == "trace"
    assert [(r["count"], r["error_rate"]) for r in traces["rows"]] == [(2, 0.5), (1, 0.0)]
    spans = service.stats(window, MINUTE, None)
    assert spans["level"] == "span" and spans["rows"][0]["count"] == 8
    with pytest.raises(InvalidRequest, match="category"):
        service.stats(window, None, "category", "trace")
    with pytest.raises(InvalidRequest, match="level"):
        service.stats(window, None, None, "session")
    assert service.stats(Filters(since_ns=1, until_ns=2), None, None, "trace")["rows"] == []


def test_an_empty_store_has_no_rows(store: Store) -> None:
    assert store.trace_stats(request()) == []
    assert store.trace_stats(request(tag="beta")) == []
