"""Small builders for the tests that write their own spans into an empty store."""

from __future__ import annotations

from typing import Any

from ingest.otlp_build import make_request
from tracepond.conventions import batch_from_table
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder
from tracepond.model.records import TraceSummary
from tracepond.model.spans import SpanBatch
from tracepond.projects import DEFAULT_PROJECT
from tracepond.store.contract import Store

DECODER = SpanDecoder(max_attribute_bytes=1 << 20)


def table(*spans: Any, service: str = "svc", project: str = DEFAULT_PROJECT) -> SpanBatch:
    return batch_of(make_request(spans, service=service), project)


def batch_of(request: Any, project: str = DEFAULT_PROJECT) -> SpanBatch:
    """What the ingest pipeline hands the store for ``request`` (every span valid)."""
    batch = DECODER.decode(request)
    assert batch.rejected == 0
    return batch_from_table(to_arrow(batch.rows), batch.rows.origins, project)


def summary_of(store: Store, trace: bytes, project: str = DEFAULT_PROJECT) -> TraceSummary:
    summary = store.trace_summary(trace, project)
    assert summary is not None
    return summary
