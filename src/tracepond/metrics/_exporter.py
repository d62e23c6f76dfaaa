"""The Prometheus collector: builds every metric family at scrape time from live state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from tracepond._version import __version__
from tracepond.metrics._genai import GENAI_LABELS, METRIC_COLUMNS, SPAN_LABELS, GenAIMetrics
from tracepond.metrics._observer import BackgroundObserver
from tracepond.metrics._state import Histogram, LabelCap, Lock, bucket_bounds
from tracepond.model.records import WriteResult
from tracepond.store.contract import SpanReader, StoreMaintenance

if TYPE_CHECKING:
    from tracepond.ingest.pipeline import WritePipeline
    from tracepond.ingest.service import IngestService
    from tracepond.retention.deleter import PurgeCounts

log = logging.getLogger(__name__)


class MeasuredStore(SpanReader, StoreMaintenance, Protocol):
    """What /metrics reads of a store: its counts (reader) and its size on disk (maintenance)."""


# The classic text format every Prometheus version reads (all names here are legacy-valid).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TRANSPORTS = ("http", "grpc")
REQUEST_OUTCOMES = ("accepted", "invalid", "refused", "failed")
SPAN_OUTCOMES = ("accepted", "rejected", "refused")
COMMIT_SIZE_BUCKETS = bucket_bounds(
    [1, 8, 32, 128, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
)
COMMIT_SECONDS_BUCKETS = bucket_bounds(
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
)
# How long a scrape waits for the metrics thread to catch up with the commits made before it.
DRAIN_SECONDS = 5.0
HistogramRows = list[tuple[tuple[str, ...], list[tuple[str, float]], float]]


class Metrics:
    """Everything /metrics reports. Create it before the pipeline (its ``on_commit`` is the
    pipeline's commit hook), then ``watch`` the pipeline and the ingest service."""

    def __init__(self, store: MeasuredStore, *, max_label_values: int = 100) -> None:
        self._store = store
        self.genai = GenAIMetrics(max_label_values)
        self._genai_observer = BackgroundObserver(self.genai.observe)
        self._lock = Lock()
        self._commit_sizes = Histogram(COMMIT_SIZE_BUCKETS)
        self._commit_seconds = Histogram(COMMIT_SECONDS_BUCKETS)
        self._pipeline: WritePipeline | None = None
        self._ingest: IngestService | None = None
        self._max_queued_spans = 0
        self._purges: PurgeCounts | None = None
        self._max_label_values = max_label_values
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))

    def watch(self, pipeline: WritePipeline, ingest: IngestService, max_queued_spans: int) -> None:
        self._pipeline = pipeline
        self._ingest = ingest
        self._max_queued_spans = max_queued_spans

    def watch_purges(self, counts: PurgeCounts) -> None:
        """Report the traces retention, the size budget and deletions removed."""
        self._purges = counts

    def on_commit(self, table: pa.Table, result: WriteResult) -> None:
        """The write pipeline's commit hook (writer thread): commit counters now, GenAI
        aggregates on the metrics thread."""
        seconds = self._pipeline.stats.last_commit_seconds if self._pipeline else 0.0
        with self._lock:
            self._commit_sizes.observe((), float(result.inserted + result.duplicates))
            self._commit_seconds.observe((), seconds)
        self._genai_observer.submit(table.select(METRIC_COLUMNS), result)

    def render(self) -> bytes:
        """The exposition text, counting every commit made before the call (off the event
        loop: it may wait up to ``DRAIN_SECONDS`` for the metrics thread)."""
        if not self._genai_observer.drain(DRAIN_SECONDS):
            log.warning(
                "GenAI metrics still aggregating after %.0f s; scraping anyway", DRAIN_SECONDS
            )
        return generate_latest(self.registry)

    def close(self) -> None:
        self._genai_observer.close()

    # -- families ------------------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        yield from self._ingest_families()
        yield from self._pipeline_families()
        yield from self._store_families()
        yield from self._genai_families()
        info = GaugeMetricFamily(
            "tracepond_build_info", "tracepond version (value is always 1)", labels=["version"]
        )
        info.add_metric([__version__], 1.0)
        yield info

    def _ingest_families(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "tracepond_ingest_requests",
            "OTLP export requests by transport and outcome (accepted, invalid, refused: queue"
            " full, failed: commit failed)",
            labels=["transport", "outcome"],
        )
        spans = CounterMetricFamily(
            "tracepond_ingest_spans",
            "Spans by transport and outcome (accepted, rejected: invalid span, refused: queue"
            " full)",
            labels=["transport", "outcome"],
        )
        rejected = CounterMetricFamily(
            "tracepond_ingest_rejected_spans",
            "Spans rejected one by one (partial success), by transport and reason",
            labels=["transport", "reason"],
        )
        if self._ingest is not None:
            stats = self._ingest.stats
            request_counts = dict(stats.requests)
            span_counts = dict(stats.spans)
            reasons = dict(stats.rejected_reasons)
            for transport in TRANSPORTS:
                for outcome in REQUEST_OUTCOMES:
                    requests.add_metric(
                        [transport, outcome], request_counts.get((transport, outcome), 0)
                    )
                for outcome in SPAN_OUTCOMES:
                    spans.add_metric([transport, outcome], span_counts.get((transport, outcome), 0))
            for (transport, reason), count in sorted(reasons.items()):
                rejected.add_metric([transport, reason], count)
        yield requests
        yield spans
        yield rejected
        yield self._project_family()

    def _project_family(self) -> Metric:
        """Accepted spans by project (as tracepond_ingest_spans counts them: a retried span
        counts again). Projects are few and created by an admin, but the label is
        still capped like every client-influenced label: past ``max_label_values`` projects
        (in the order they first received spans) the rest add up under ``other``."""
        family = CounterMetricFamily(
            "tracepond_ingest_project_spans",
            "Spans accepted, by project (past the label limit, the rest under project=other)",
            labels=["project"],
        )
        if self._ingest is None:
            return family
        cap = LabelCap(self._max_label_values)
        totals: dict[str, int] = {}
        for project, count in list(self._ingest.stats.project_spans.items()):
            label = cap(project)
            totals[label] = totals.get(label, 0) + count
        for label, count in totals.items():
            family.add_metric([label], count)
        return family

    def _pipeline_families(self) -> Iterator[Metric]:
        pipeline = self._pipeline
        queued = GaugeMetricFamily("tracepond_queue_spans", "Spans waiting to be committed")
        capacity = GaugeMetricFamily(
            "tracepond_queue_capacity_spans", "Queued spans past which requests are refused (503)"
        )
        commits = CounterMetricFamily("tracepond_commits", "Successful commits (groups)")
        failed = CounterMetricFamily("tracepond_commit_failures", "Failed commits")
        committed = CounterMetricFamily("tracepond_committed_spans", "Spans stored")
        duplicates = CounterMetricFamily(
            "tracepond_duplicate_spans", "Spans received again and not stored twice"
        )
        if pipeline is not None:
            stats = pipeline.stats
            queued.add_metric([], pipeline.queued_spans)
            capacity.add_metric([], self._max_queued_spans)
            commits.add_metric([], stats.commits)
            failed.add_metric([], stats.failed_commits)
            committed.add_metric([], stats.committed_spans)
            duplicates.add_metric([], stats.duplicate_spans)
        yield from (queued, capacity, commits, failed, committed, duplicates)
        if pipeline is not None and pipeline.stats.tasks:
            # Purge batches run on the writer between commits: the longest held ingest this long.
            longest = GaugeMetricFamily(
                "tracepond_writer_task_max_seconds",
                "Longest deletion batch run on the writer thread (commits waited meanwhile)",
            )
            longest.add_metric([], pipeline.stats.longest_task_seconds)
            yield longest
        with self._lock:
            sizes = self._commit_sizes.snapshot()
            seconds = self._commit_seconds.snapshot()
        yield _histogram("tracepond_commit_spans", "Spans per commit group", [], sizes)
        yield _histogram(
            "tracepond_commit_duration_seconds", "Time to store and commit one group", [], seconds
        )

    def _store_families(self) -> Iterator[Metric]:
        size = GaugeMetricFamily(
            "tracepond_database_bytes",
            "Size of the database on disk (DuckDB: its file and write-ahead log); absent when"
            " the store cannot say",
        )
        spans = GaugeMetricFamily("tracepond_stored_spans", "Spans in the database")
        traces = GaugeMetricFamily("tracepond_stored_traces", "Traces in the database")
        try:
            span_count, trace_count = self._store.counts()
            database_bytes = self._store.database_bytes()
            if database_bytes is not None:
                size.add_metric([], database_bytes)
            spans.add_metric([], span_count)
            traces.add_metric([], trace_count)
        except Exception:  # the store is closing: report what we can
            pass
        yield from (size, spans, traces)
        if self._purges is not None:
            purged = CounterMetricFamily(
                "tracepond_traces_purged",
                "Traces deleted, by reason: retention, size (the budget), request (an API or"
                " CLI deletion)",
                labels=["reason"],
            )
            for reason, count in sorted(self._purges.snapshot().items()):
                purged.add_metric([reason], count)
            yield purged

    def _genai_families(self) -> Iterator[Metric]:
        snap = self.genai.snapshot()
        yield _histogram(
            "gen_ai_client_token_usage",
            "Tokens per LLM/embedding call (OTel gen_ai.client.token.usage), leaf calls only",
            [*GENAI_LABELS, "token_type"],
            snap.token_usage,
        )
        yield _histogram(
            "gen_ai_client_operation_duration_seconds",
            "Duration of LLM/embedding calls (OTel gen_ai.client.operation.duration)",
            list(GENAI_LABELS),
            snap.operation_duration,
        )
        cost = CounterMetricFamily(
            "tracepond_gen_ai_cost",
            "Cost reported by LLM/embedding calls (the producer's currency, usually USD)",
            labels=["model", "provider", "service"],
        )
        for labels, value in sorted(snap.cost.items()):
            cost.add_metric(list(labels), value)
        yield cost
        spans = CounterMetricFamily(
            "tracepond_spans", "Stored spans by category and service", labels=list(SPAN_LABELS)
        )
        errors = CounterMetricFamily(
            "tracepond_span_errors",
            "Stored spans with status ERROR by category and service",
            labels=list(SPAN_LABELS),
        )
        for labels, value in sorted(snap.spans.items()):
            spans.add_metric(list(labels), value)
            errors.add_metric(list(labels), snap.errors.get(labels, 0.0))
        yield spans
        yield errors
        yield _histogram(
            "tracepond_span_duration_seconds",
            "Span durations by category and service",
            list(SPAN_LABELS),
            snap.span_duration,
        )
        skipped = CounterMetricFamily(
            "tracepond_metrics_skipped_spans",
            "Stored spans left out of the GenAI/span metrics (commits that mixed new spans with"
            " spans stored before)",
        )
        skipped.add_metric([], snap.skipped_spans)
        yield skipped
        folded = CounterMetricFamily(
            "tracepond_metrics_label_overflow",
            "Label values folded into 'other' because the label reached its cap",
            labels=["label"],
        )
        for label, count in sorted(snap.folded.items()):
            folded.add_metric([label], count)
        yield folded


def _histogram(
    name: str,
    documentation: str,
    labels: list[str],
    rows: HistogramRows,
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for values, buckets, total in sorted(rows):
        family.add_metric(list(values), buckets, total)
    return family


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics.collect()


def mount(app: FastAPI, metrics: Metrics) -> None:
    """Serve ``GET /metrics`` from ``app``."""

    async def handle(request: Request) -> Response:
        # Store counts are DuckDB queries: off the event loop.
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    app.router.add_route("/metrics", handle, methods=["GET"], include_in_schema=False)
