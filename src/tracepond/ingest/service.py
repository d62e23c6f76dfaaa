"""The ingest service: decode a request body, queue its valid spans, wait for their commit.

Both receivers call this; it knows nothing of HTTP or gRPC.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tracepond.errors import Overloaded, TracepondError
from tracepond.ingest._rows import SpanBatch
from tracepond.ingest.decoding import DecodeOutcome, Decoder, Encoding
from tracepond.ingest.pipeline import WritePipeline

log = logging.getLogger(__name__)


class IngestStats:
    """Counters by (transport, outcome) for /metrics; only the event loop thread writes them."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.spans: Counter[tuple[str, str]] = Counter()
        self.rejected_reasons: Counter[tuple[str, str]] = Counter()


class IngestService:
    def __init__(self, decoder: Decoder, pipeline: WritePipeline) -> None:
        self._decoder = decoder
        self._pipeline = pipeline
        self.stats = IngestStats()

    async def export(
        self, body: bytes | list[bytes], encoding: Encoding, transport: str
    ) -> DecodeOutcome:
        """Store the valid spans of one request body; returns once they are committed. A body
        given as a one-item list is taken out of it, so that it can be freed once decoded.

        Raises InvalidRequest (nothing stored), Overloaded (queue full: retry later),
        StorageUnavailable (the commit failed: nothing stored, retry later) or StorageRejected
        (the store cannot store these spans: nothing stored, retrying will not help)."""
        self._pipeline.expect()
        try:
            outcome = await self._decoder.decode(body, encoding)
        except BaseException as exc:
            self._pipeline.abandon()
            if isinstance(exc, TracepondError):
                self.stats.requests[(transport, "invalid")] += 1
            raise
        if outcome.batch is None:
            self._pipeline.abandon()
        stats = self.stats
        for reason, count in outcome.reasons.items():
            stats.rejected_reasons[(transport, reason)] += count
        stats.spans[(transport, "rejected")] += outcome.rejected
        if outcome.batch is not None:
            await self._commit(outcome.batch, transport)
        stats.requests[(transport, "accepted")] += 1
        stats.spans[(transport, "accepted")] += outcome.accepted
        return outcome

    async def _commit(self, batch: SpanBatch, transport: str) -> None:
        try:
            future = self._pipeline.submit(batch)
        except BaseException as exc:
            self._pipeline.abandon()  # a refused request is no longer on its way
            if isinstance(exc, Overloaded):
                self.stats.requests[(transport, "refused")] += 1
                self.stats.spans[(transport, "refused")] += batch.num_rows
            raise
        try:
            await asyncio.wrap_future(future)
        except Exception as exc:
            self.stats.requests[(transport, "failed")] += 1
            if isinstance(exc, TracepondError):
                raise
            # The store answers every failure it knows as retryable or rejected (store/base.py);
            # anything else is a fault of ours, and a 503 would have exporters retry it forever.
            log.exception("commit failed with an unexpected error")
            raise TracepondError(f"internal error, nothing stored: {exc}") from exc

    def record_bad_request(self, transport: str) -> None:
        self.stats.requests[(transport, "invalid")] += 1


def response_message(outcome: DecodeOutcome) -> ExportTraceServiceResponse:
    response = ExportTraceServiceResponse()
    if outcome.rejected:
        response.partial_success.rejected_spans = outcome.rejected
        response.partial_success.error_message = outcome.error_message()
    return response
