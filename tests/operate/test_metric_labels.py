"""Metric label values taken from client data are bounded in length: spans with megabyte-long
model, provider, operation and service names make a small ``/metrics`` page, their values cut
(between two characters, ending in the marker)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ingest.otlp_build import make_request, make_span, span_id, trace_id
from operate.promtext import scrape, total
from tracepond.metrics._state import CUT_MARKER, MAX_LABEL_BYTES, cut_label

MIB = 1 << 20
SPANS = 5


def huge(prefix: str, index: int) -> str:
    # Distinct at the start, so that each span's values are distinct label values once cut.
    return f"{prefix}-{index}-" + "é" * (MIB // 2)  # 1 MiB of UTF-8: 2 bytes a character


def llm_request(index: int) -> bytes:
    attributes = {
        "gen_ai.operation.name": huge("operation", index),
        "gen_ai.provider.name": huge("provider", index),
        "gen_ai.request.model": huge("model", index),
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 2,
    }
    span = make_span(trace_id(), span_id(), "chat", attributes=attributes)
    return make_request([span], service=huge("service", index)).SerializeToString()


def test_huge_label_values_are_cut(start_tracepond: Callable[..., Any]) -> None:
    server = start_tracepond()
    for index in range(SPANS):
        response = server.post_otlp(llm_request(index))
        assert response.status_code == 200, response.text
    deadline = time.monotonic() + 60
    while total(scrape(server), "tracepond_committed_spans_total") < SPANS:
        assert time.monotonic() < deadline, "spans not committed"
        time.sleep(0.1)

    page = server.get("/metrics").content
    # Uncut, every series naming one of these spans would carry 2-4 MiB of labels.
    assert len(page) < 256 * 1024, len(page)

    samples = scrape(server)
    spans = [s for s in samples if s.name == "tracepond_spans_total"]
    services = {s.labels["service"] for s in spans}
    assert services == {cut_label(huge("service", i)) for i in range(SPANS)}
    for service in services:
        assert service.endswith(CUT_MARKER)
        assert len(service.encode()) <= MAX_LABEL_BYTES
        assert service.startswith("service-")
    usage = [s for s in samples if s.name == "gen_ai_client_token_usage_sum"]
    models = {s.labels["model"] for s in usage}
    providers = {s.labels["provider"] for s in usage}
    assert models == {cut_label(huge("model", i)) for i in range(SPANS)}
    assert providers == {cut_label(huge("provider", i)) for i in range(SPANS)}
    for labels in (s.labels for s in usage):
        for value in labels.values():
            assert len(value.encode()) <= MAX_LABEL_BYTES
    assert total(samples, "gen_ai_client_token_usage_sum", token_type="input") == 10 * SPANS


def test_cut_label_keeps_short_values_and_cuts_between_characters() -> None:
    assert cut_label("gpt-4o") == "gpt-4o"
    assert cut_label("a" * MAX_LABEL_BYTES) == "a" * MAX_LABEL_BYTES
    marker = len(CUT_MARKER.encode())
    assert cut_label("a" * (MAX_LABEL_BYTES + 1)) == "a" * (MAX_LABEL_BYTES - marker) + CUT_MARKER
    # 4-byte characters: the last whole one that fits is kept, none is split.
    emoji = "\U0001f600" * 100
    cut = cut_label(emoji)
    assert cut == "\U0001f600" * ((MAX_LABEL_BYTES - marker) // 4) + CUT_MARKER
    for text in ("é" * 200, "x€" * 90, "ab\U0001f600" * 60):
        cut = cut_label(text)
        assert len(cut.encode()) <= MAX_LABEL_BYTES
        assert text.startswith(cut.removesuffix(CUT_MARKER))
