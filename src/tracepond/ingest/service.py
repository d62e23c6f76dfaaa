"""The ingest service: decode a request body, queue its valid spans, wait for their commit.

Both receivers call this; it knows nothing of HTTP or gRPC.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from tracepond.errors import Overloaded, TracepondError
from tracepond.ingest._routing import KnownProjects, ProjectChoice, route
from tracepond.ingest.decoding import DecodeOutcome, Decoder, Encoding
from tracepond.ingest.pipeline import WritePipeline
from tracepond.model.spans import SpanBatch

log = logging.getLogger(__name__)


class IngestStats:
    """Counters by (transport, outcome) for /metrics; only the event loop thread writes them."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str]] = Counter()
        self.spans: Counter[tuple[str, str]] = Counter()
        self.rejected_reasons: Counter[tuple[str, str]] = Counter()
        # Spans accepted, by project (/metrics bounds how many projects it names).
        self.project_spans: Counter[str] = Counter()


# A request that names no project itself (its resources may).
NO_CHOICE = ProjectChoice()


class IngestService:
    def __init__(
        self,
        decoder: Decoder,
        pipeline: WritePipeline,
        project_exists: Callable[[str], bool] | None = None,
    ) -> None:
        self._decoder = decoder
        self._pipeline = pipeline
        # Without a lookup (tests of the pipeline alone) only `default` exists.
        self._projects = KnownProjects(project_exists or (lambda _name: False))
        self.stats = IngestStats()

    async def export(
        self,
        body: bytes | list[bytes],
        encoding: Encoding,
        transport: str,
        project: ProjectChoice = NO_CHOICE,
    ) -> DecodeOutcome:
        """Store the valid spans of one request body in their project (``_routing``); returns
        once they are committed. A body given as a one-item list is taken out of it, so that it
        can be freed once decoded.

        Raises InvalidRequest (nothing stored; UnknownProject for a project never created),
        Overloaded (queue full: retry later), StorageUnavailable (the commit failed: nothing
        stored, retry later) or StorageRejected (the store cannot store these spans: nothing
        stored, retrying will not help)."""
        if project.fixed is not None:
            await self._check_project(project.fixed, transport)
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
            parts = await self._routed(outcome.batch, project, transport)
            for i, batch in enumerate(parts):
                try:
                    await self._commit(batch, transport)
                except BaseException:
                    for _ in parts[i + 1 :]:
                        self._pipeline.abandon()
                    raise
                stats.project_spans[batch.project] += batch.num_rows
        stats.requests[(transport, "accepted")] += 1
        stats.spans[(transport, "accepted")] += outcome.accepted
        return outcome

    async def _check_project(self, project: str, transport: str) -> None:
        try:
            if not self._projects.known(project):
                # A name not seen yet is looked up in the store: off the event loop, so that a
                # client sending made-up names costs the other clients nothing.
                await asyncio.to_thread(self._projects.check, project)
        except TracepondError:
            self.stats.requests[(transport, "invalid")] += 1
            raise

    async def _routed(
        self, batch: SpanBatch, project: ProjectChoice, transport: str
    ) -> list[SpanBatch]:
        """The batch split by project, every project checked; nothing is submitted (and the
        expected request abandoned) when one is refused."""
        try:
            parts = route(batch, project)
            for part in parts:
                await self._check_project(part.project, transport)
        except BaseException:
            self._pipeline.abandon()
            raise
        for _ in parts[1:]:
            self._pipeline.expect()  # each part is submitted on its own
        return parts

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
            # The store answers every failure it knows as retryable or rejected (store/contract.py);
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
