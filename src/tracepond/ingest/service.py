"""The ingest service: decode a request, queue its valid spans, wait for their commit.

Both receivers call this; it knows nothing of HTTP or gRPC.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tracepond.errors import Overloaded, StorageUnavailable, TracepondError
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import DecodedBatch, SpanDecoder
from tracepond.ingest.pipeline import WritePipeline


class IngestStats:
    """Counters by (transport, outcome) for /metrics; only the event loop thread writes them."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.spans: Counter[tuple[str, str]] = Counter()
        self.rejected_reasons: Counter[tuple[str, str]] = Counter()


class IngestService:
    def __init__(self, decoder: SpanDecoder, pipeline: WritePipeline) -> None:
        self._decoder = decoder
        self._pipeline = pipeline
        self.stats = IngestStats()

    async def export(self, request: ExportTraceServiceRequest, transport: str) -> DecodedBatch:
        """Store the valid spans of ``request``; returns once they are committed."""
        batch = self._decoder.decode(request)
        stats = self.stats
        for reason, count in batch.reasons.items():
            stats.rejected_reasons[(transport, reason)] += count
        stats.spans[(transport, "rejected")] += batch.rejected
        if batch.accepted:
            try:
                future = self._pipeline.submit(to_arrow(batch.rows))
            except Overloaded:
                stats.requests[(transport, "refused")] += 1
                stats.spans[(transport, "refused")] += batch.accepted
                raise
            try:
                await asyncio.wrap_future(future)
            except Exception as exc:
                stats.requests[(transport, "failed")] += 1
                if isinstance(exc, TracepondError):
                    raise
                raise StorageUnavailable(f"commit failed, nothing stored: {exc}") from exc
        stats.requests[(transport, "accepted")] += 1
        stats.spans[(transport, "accepted")] += batch.accepted
        return batch

    def record_bad_request(self, transport: str) -> None:
        self.stats.requests[(transport, "invalid")] += 1


def response_message(batch: DecodedBatch) -> ExportTraceServiceResponse:
    response = ExportTraceServiceResponse()
    if batch.rejected:
        response.partial_success.rejected_spans = batch.rejected
        response.partial_success.error_message = batch.error_message()
    return response
