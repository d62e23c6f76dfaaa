"""``GET /metrics`` of a real server after real producers' captured requests (the fixtures of
tests/conventions), an invalid span, a retried request and gRPC traffic: ingest counters, store
gauges, commit histograms and the GenAI metrics derived from the committed spans."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from conventions.test_through_server import EXPECTED_TOTALS, captured_requests
from ingest.otlp_build import chain, make_request, make_span, span_id, trace_id
from operate.promtext import Sample, scrape, total
from operate.samples import PRICED_COST, PRICED_MODEL, PRICED_SERVICE, priced_call

# Services of the producers' fixtures (their resources' service.name).
SERVICES = {
    "openinference_langchain": "oi-fixture",
    "mlflow_tracing": "mlflow-fixture",
    "langsmith_otel": "langsmith-fixture",
    "traceloop_langchain": "traceloop-fixture",
    "otel_js_proto": "otel-js-proto",
    "otel_js_json": "otel-js-json",
}


@pytest.fixture(scope="module")
def loaded(launch_shared_tracepond: Callable[..., Any]) -> tuple[Any, list[Sample], list[Sample]]:
    """A fresh server: /metrics before any traffic, and after the traffic below."""
    server = launch_shared_tracepond()
    before = scrape(server)
    for producer in sorted(EXPECTED_TOTALS):
        for body, media, headers in captured_requests(producer):
            response = server.post_otlp(body, media, **headers)
            assert response.status_code == 200, response.text
    assert server.post_otlp(priced_call()).status_code == 200
    # One valid and one invalid span (end before start) in one request: partial success.
    tid = trace_id()
    bad = make_span(tid, span_id(), "bad", start=2_000, end=1_000)
    request = make_request([*chain(tid, 2), bad], service="metrics-test")
    response = server.post_otlp(request.SerializeToString())
    assert response.status_code == 200
    # The same request again: an exporter retrying. Its spans are stored once.
    assert server.post_otlp(request.SerializeToString()).status_code == 200
    # Three spans over gRPC, one of them with status ERROR.
    grpc_trace = trace_id()
    spans = chain(grpc_trace, 2)
    spans.append(make_span(grpc_trace, span_id(), "boom", parent=spans[0].span_id, status_code=2))
    with grpc.insecure_channel(server.grpc) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        stub.Export(make_request(spans, service="metrics-grpc"), timeout=30)
    return server, before, scrape(server)


def test_before_traffic_every_ingest_series_is_zero(loaded: Any) -> None:
    _, before, _ = loaded
    for transport in ("http", "grpc"):
        for outcome in ("accepted", "invalid", "refused", "failed"):
            series = [
                s
                for s in before
                if s.name == "tracepond_ingest_requests_total"
                and s.labels == {"transport": transport, "outcome": outcome}
            ]
            assert [s.value for s in series] == [0.0]
    assert total(before, "tracepond_stored_spans") == 0
    assert total(before, "gen_ai_client_token_usage_count") == 0


def test_ingest_counters(loaded: Any) -> None:
    _, _, after = loaded
    requests = sum(len(captured_requests(p)) for p in EXPECTED_TOTALS) + 3
    assert total(
        after, "tracepond_ingest_requests_total", transport="http", outcome="accepted"
    ) == (requests)
    assert (
        total(after, "tracepond_ingest_requests_total", transport="grpc", outcome="accepted") == 1
    )
    assert total(after, "tracepond_ingest_spans_total", transport="grpc", outcome="accepted") == 3
    assert total(after, "tracepond_ingest_spans_total", transport="http", outcome="rejected") == 2
    assert (
        total(
            after,
            "tracepond_ingest_rejected_spans_total",
            transport="http",
            reason="end_time_unix_nano before start_time_unix_nano",
        )
        == 2
    )


def test_store_and_commit_metrics(loaded: Any) -> None:
    server, _, after = loaded
    stored_traces = len(server.all_traces())
    assert total(after, "tracepond_stored_traces") == stored_traces
    accepted = total(after, "tracepond_ingest_spans_total", outcome="accepted")
    # The retried request's two valid spans were acknowledged twice but stored once.
    assert total(after, "tracepond_duplicate_spans_total") == 2
    assert total(after, "tracepond_stored_spans") == accepted - 2
    assert total(after, "tracepond_committed_spans_total") == accepted - 2
    commits = total(after, "tracepond_commits_total")
    assert commits >= 1
    assert total(after, "tracepond_commit_duration_seconds_count") == commits
    assert total(after, "tracepond_commit_spans_count") == commits
    assert total(after, "tracepond_commit_spans_sum") == accepted
    assert total(after, "tracepond_database_bytes") > 0
    assert total(after, "tracepond_queue_capacity_spans") == 200_000


@pytest.mark.parametrize("producer", sorted(EXPECTED_TOTALS))
def test_token_usage_matches_trace_totals(loaded: Any, producer: str) -> None:
    """gen_ai_client_token_usage counts each call once: the same sums as the trace totals."""
    _, _, after = loaded
    service = SERVICES[producer]
    expected_input, expected_output, llm_steps, tool_steps, retriever_steps = EXPECTED_TOTALS[
        producer
    ]
    usage = "gen_ai_client_token_usage_sum"
    assert total(after, usage, service=service, token_type="input") == expected_input
    assert total(after, usage, service=service, token_type="output") == expected_output
    calls = total(after, "gen_ai_client_operation_duration_seconds_count", service=service)
    assert calls == llm_steps
    assert total(after, "tracepond_spans_total", service=service, category="tool") == tool_steps
    assert (
        total(after, "tracepond_spans_total", service=service, category="retriever")
        == retriever_steps
    )


def test_genai_labels_and_histogram_buckets(loaded: Any) -> None:
    _, _, after = loaded
    series = [s for s in after if s.name == "gen_ai_client_token_usage_sum"]
    assert {"model", "provider", "operation", "service", "token_type"} == set(series[0].labels)
    openai = total(after, "gen_ai_client_token_usage_sum", model="gpt-4o", provider="openai")
    assert openai == 30 + 4 + 42 + 7  # langsmith's and mlflow's gpt-4o calls
    # Buckets are cumulative and the +Inf bucket equals the count.
    buckets = [
        s
        for s in after
        if s.name == "gen_ai_client_operation_duration_seconds_bucket"
        and s.labels["service"] == "oi-fixture"
    ]
    values = [s.value for s in buckets]
    assert values == sorted(values)
    assert buckets[-1].labels["le"] == "+Inf"
    assert values[-1] == total(
        after, "gen_ai_client_operation_duration_seconds_count", service="oi-fixture"
    )


def test_span_errors_by_category_and_service(loaded: Any) -> None:
    _, _, after = loaded
    assert total(after, "tracepond_span_errors_total", service="metrics-grpc") == 1
    assert total(after, "tracepond_spans_total", service="metrics-grpc") == 3
    # Every producer fixture has one failing tool call.
    for service in SERVICES.values():
        assert total(after, "tracepond_span_errors_total", service=service, category="tool") == 1
    # The retried request was not counted twice.
    assert total(after, "tracepond_spans_total", service="metrics-test") == 2


def test_cost_by_model(loaded: Any) -> None:
    _, _, after = loaded
    cost = [s for s in after if s.name == "tracepond_gen_ai_cost_total"]
    sent = {"model": PRICED_MODEL, "provider": "openai", "service": PRICED_SERVICE}
    assert [s.value for s in cost if s.labels == sent] == [PRICED_COST]
    # The producer fixtures' gpt-4o calls sent no cost: theirs is computed from its price.
    computed = [s for s in cost if s.labels != sent]
    assert computed and all(s.labels["model"].startswith("gpt-4o") for s in computed)
    assert all(s.value > 0 for s in computed)
