"""Sample traffic for /metrics tests: the real producers' captured requests (tests/conventions),
plus an LLM call that reports its cost and a request with one invalid span."""

from __future__ import annotations

from typing import Any

from conventions.test_through_server import EXPECTED_TOTALS, captured_requests
from ingest.otlp_build import make_request, make_span, span_id, trace_id

PRICED_SERVICE = "priced-service"
PRICED_MODEL = "gpt-priced"
PRICED_COST = 0.25


def priced_call() -> bytes:
    tid = trace_id()
    span = make_span(
        tid,
        span_id(),
        f"chat {PRICED_MODEL}",
        end=1_700_000_000_000_000_000 + 200_000_000,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": PRICED_MODEL,
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 10,
            "gen_ai.usage.cost": PRICED_COST,
        },
    )
    return make_request([span], service=PRICED_SERVICE).SerializeToString()


def invalid_span_request() -> bytes:
    tid = trace_id()
    return make_request([make_span(tid, span_id(), "bad", start=10, end=5)]).SerializeToString()


def post_samples(server: Any) -> None:
    for producer in sorted(EXPECTED_TOTALS):
        for body, media, headers in captured_requests(producer):
            response = server.post_otlp(body, media, **headers)
            assert response.status_code == 200, response.text
    for body in (priced_call(), invalid_span_request()):
        assert server.post_otlp(body).status_code == 200
