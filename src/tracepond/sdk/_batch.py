"""A batch span processor that encodes each span to OTLP bytes as it ends.

OTel's `BatchSpanProcessor` queues `ReadableSpan` objects (each a dozen container objects) and
encodes them later in its thread. Spans waiting in that queue survive young-generation garbage
collections, so a busy process keeps triggering collections, including full ones over the whole
heap; measured on a tight `@trace` loop, those cost more per span than the encoding itself (see
bench/README.md). Here `on_end` encodes the span into its protobuf bytes right away (a few
microseconds with `_otlp`) and queues only bytes, which the garbage collector never tracks; the
background thread joins them into a request and hands it to the exporter.

Batch semantics are OTel's: a bounded queue (`OTEL_BSP_MAX_QUEUE_SIZE`) that, when full, drops
its oldest span to make room instead of blocking, a background export every
`OTEL_BSP_SCHEDULE_DELAY` ms or as soon as `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` spans wait,
`force_flush` exporting everything queued, `shutdown` flushing then closing the exporter, and a
fresh thread after `fork()`. Nothing here raises into the caller: failures are logged
(rate-limited) and the span is dropped. What each export did is recorded in a `Delivery`, for
`tracepond.flush()` to tell whether the spans reached the server.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExportResult

from tracepond.sdk._delivery import Delivery, why_failed
from tracepond.sdk._otlp import assemble_request, encode_span_field

logger = logging.getLogger("tracepond")

_ENV_DEFAULTS = {
    "OTEL_BSP_SCHEDULE_DELAY": 5000,
    "OTEL_BSP_MAX_QUEUE_SIZE": 2048,
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": 512,
    "OTEL_BSP_EXPORT_TIMEOUT": 30000,
}
_WARN_EVERY_S = 10.0
# Distinct (resource, scope) pairs remembered before the table is rebuilt (when it is empty).
_MAX_GROUPS = 1024


class SerializedSpanExporter(Protocol):
    """An exporter that can send an already serialized ExportTraceServiceRequest."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult: ...

    def export_serialized(self, body: bytes, span_count: int) -> SpanExportResult: ...

    def shutdown(self) -> None: ...


def env_int(name: str, env: Any = None) -> int:
    """An OTEL_BSP_* setting: environment variable if it is a positive integer, else default."""
    default = _ENV_DEFAULTS[name]
    raw = (os.environ if env is None else env).get(name)
    if raw is None or not str(raw).strip():
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value <= 0:
        logger.warning("tracepond: ignoring %s=%r (not a positive integer)", name, raw)
        return default
    return value


class EncodingBatchProcessor(SpanProcessor):
    """Batch processor for tracepond's exporters; see the module docstring."""

    def __init__(
        self,
        exporter: SerializedSpanExporter,
        *,
        max_queue_size: int | None = None,
        schedule_delay_millis: float | None = None,
        max_export_batch_size: int | None = None,
        delivery: Delivery | None = None,
    ) -> None:
        self._exporter = exporter
        self.delivery = delivery if delivery is not None else Delivery()
        self._max_queue = max_queue_size or env_int("OTEL_BSP_MAX_QUEUE_SIZE")
        self._delay_s = (schedule_delay_millis or env_int("OTEL_BSP_SCHEDULE_DELAY")) / 1000
        batch = max_export_batch_size or env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")
        self._batch_size = min(batch, self._max_queue)
        # Encoded spans and, in step, the index of their (resource, scope) in `_groups`.
        self._bodies: collections.deque[bytes] = collections.deque()
        self._group_ids: collections.deque[int] = collections.deque()
        self._groups: list[tuple[Any, Any]] = []
        self._group_index: dict[tuple[int, Any], int] = {}  # by equality, as OTel groups
        self._resource_index: dict[Any, Any] = {}  # Resource -> first equal Resource seen
        self._resources: dict[int, tuple[Any, Any]] = {}  # id -> (Resource, its canonical)
        self._by_identity: dict[tuple[int, int], tuple[Any, Any, int]] = {}
        self._last_resource: Any = None  # the group of the previous span, checked first
        self._last_scope: Any = None
        self._last_group = -1
        self._fallback: list[ReadableSpan] = []  # spans our encoder failed on (OTel's then)
        self._dropped = 0
        self._last_warning = 0.0
        self._shutdown = False
        self._lock = threading.Lock()
        self._export_lock = threading.Lock()
        self._wake = threading.Event()
        self._start_worker()
        if hasattr(os, "register_at_fork"):
            weak = weakref.WeakMethod(self._after_fork)

            def after_in_child() -> None:
                method = weak()
                if method is not None:
                    method()

            os.register_at_fork(after_in_child=after_in_child)

    def _start_worker(self) -> None:
        self._worker = threading.Thread(
            name="TracepondSpanExport", target=self._run_worker, daemon=True
        )
        self._worker.start()

    def _after_fork(self) -> None:
        # The child inherits the queue but not the thread: start over with empty state.
        self._lock = threading.Lock()
        self._export_lock = threading.Lock()
        self._wake = threading.Event()
        self._bodies.clear()
        self._group_ids.clear()
        self._fallback.clear()
        self._start_worker()

    # --- producer side (any thread, on the caller's time) -------------------------------------

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        try:
            readable: Any = span  # private fields below: the properties cost more than the rest
            context = readable._context
            if context is None or not context.trace_flags & 1 or self._shutdown:
                return  # not sampled: OTel's processors export sampled spans only
            try:
                body = encode_span_field(span)
            except Exception:
                self._keep_for_fallback(span)
                return
            resource, scope = readable._resource, readable._instrumentation_scope or None
            with self._lock:
                if resource is self._last_resource and scope is self._last_scope:
                    group = self._last_group
                else:
                    group = self._group(resource, scope)
                full = len(self._bodies) >= self._max_queue
                if full:  # as OTel's processors: the oldest queued span makes room
                    self._bodies.popleft()
                    self._group_ids.popleft()
                self._bodies.append(body)
                self._group_ids.append(group)
                queued = len(self._bodies)
            if full:
                self._drop()
            if queued >= self._batch_size and not self._wake.is_set():
                self._wake.set()
        except Exception:
            self._warn("tracepond: could not queue span for export", exc_info=True)

    def _group(self, resource: Any, scope: Any) -> int:
        """Index of (resource, scope) in the group table; called with the lock held."""
        entry = self._by_identity.get((id(resource), id(scope)))
        if entry is not None and entry[0] is resource and entry[1] is scope:
            group = entry[2]
        else:
            group = self._new_group(resource, scope)
        self._last_resource, self._last_scope, self._last_group = resource, scope, group
        return group

    def _new_group(self, resource: Any, scope: Any) -> int:
        """Index of (resource, scope) in the group table; called with the lock held.

        Groups are keyed by equality, as OTel groups them; a Resource hashes through JSON, so
        its equality class is looked up once per Resource object (a tracer per call, as some
        libraries make, gives a new scope object each time but the same resource).
        """
        canonical = self._resources.get(id(resource))
        if canonical is None or canonical[0] is not resource:
            canonical = (resource, self._resource_index.setdefault(resource, resource))
            if len(self._resources) >= _MAX_GROUPS:
                self._resources.clear()
            self._resources[id(resource)] = canonical
        key = (id(canonical[1]), scope)  # the canonical Resource lives in _resource_index
        index = self._group_index.get(key)
        if index is None:
            index = len(self._groups)
            self._groups.append((resource, scope))
            self._group_index[key] = index
        if len(self._by_identity) >= _MAX_GROUPS:
            self._by_identity.clear()
        self._by_identity[(id(resource), id(scope))] = (resource, scope, index)
        return index

    def _keep_for_fallback(self, span: ReadableSpan) -> None:
        self._warn("tracepond: fast OTLP encoding failed, using OpenTelemetry's", exc_info=True)
        with self._lock:
            if len(self._fallback) < self._max_queue:
                self._fallback.append(span)
                return
        self._drop()

    def _drop(self) -> None:
        self._dropped += 1
        self.delivery.lost(1, None)  # logged below, rate-limited: a full queue is one cause
        self._warn(
            "tracepond: export queue full (%d spans), dropping spans (%d so far)",
            self._max_queue,
            self._dropped,
        )

    def _warn(self, message: str, *args: Any, exc_info: bool = False) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_S:
            self._last_warning = now
            logger.warning(message, *args, exc_info=exc_info)

    @property
    def dropped_spans(self) -> int:
        return self._dropped

    # --- consumer side (the worker thread, force_flush, shutdown) -----------------------------

    def _run_worker(self) -> None:
        while not self._shutdown:
            interrupted = self._wake.wait(self._delay_s)
            if self._shutdown:
                break
            self._wake.clear()
            # Woken for a full batch: send full batches; timed out: send what there is.
            self._export(everything=not interrupted)
        self._export(everything=True)

    def _export(self, *, everything: bool, deadline: float | None = None) -> bool:
        """Send full batches, or everything queued; False if `deadline` stopped it first."""
        wait = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._export_lock.acquire(timeout=wait):  # another export still running
            return False
        try:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    return False
                with self._lock:
                    queued = len(self._bodies)
                    if queued == 0 or (not everything and queued < self._batch_size):
                        break
                    count = min(queued, self._batch_size)
                    bodies = [self._bodies.popleft() for _ in range(count)]
                    group_ids = [self._group_ids.popleft() for _ in range(count)]
                    groups = self._groups
                self._send(bodies, group_ids, groups)
            with self._lock:
                fallback, self._fallback = self._fallback, []
                if not self._bodies and len(self._groups) > _MAX_GROUPS:
                    self._forget_groups()
            if fallback:
                self._call(len(fallback), lambda: self._exporter.export(fallback))
            return True
        finally:
            self._export_lock.release()

    def _forget_groups(self) -> None:
        """Many distinct scopes (e.g. a tracer per request): rebuild the table while empty."""
        self._groups = []
        self._group_index = {}
        self._by_identity = {}
        self._resource_index = {}
        self._resources = {}
        self._last_resource = self._last_scope = None
        self._last_group = -1

    def _send(self, bodies: list[bytes], group_ids: list[int], groups: list[Any]) -> None:
        by_group: dict[int, list[bytes]] = {}
        for group, body in zip(group_ids, bodies, strict=True):
            found = by_group.get(group)
            if found is None:
                by_group[group] = [body]
            else:
                found.append(body)
        # resource -> scope -> spans, through dicts: OTel's grouping by equality, in order.
        tree: dict[Any, dict[Any, list[bytes]]] = {}
        for group, encoded in by_group.items():
            resource, scope = groups[group]
            tree.setdefault(resource, {}).setdefault(scope, []).extend(encoded)
        try:
            request = assemble_request(tree)
        except Exception:
            logger.warning("tracepond: could not assemble an export request", exc_info=True)
            self.delivery.lost(len(bodies), None)
            return
        self._call(len(bodies), lambda: self._exporter.export_serialized(request, len(bodies)))

    def _call(self, span_count: int, export: Any) -> None:
        """Run `export` (of `span_count` spans) and record whether the server took them."""
        # Like OTel's processor: the exporter's own HTTP/gRPC calls must not be traced.
        token = otel_context.attach(
            otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
        )
        try:
            result = export()
        except Exception as exc:
            logger.exception("tracepond: exception while exporting spans")
            self.delivery.lost(span_count, f"the exporter raised {exc!r}")
            return
        finally:
            otel_context.detach(token)
        if result is SpanExportResult.SUCCESS:
            self.delivery.delivered()
        else:
            self.delivery.lost(span_count, why_failed(self._exporter))

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export everything queued, batch after batch, until done or `timeout_millis` has
        passed (a batch already being sent finishes: its exporter has its own timeout)."""
        if self._shutdown:
            return False
        return self._export(everything=True, deadline=time.monotonic() + timeout_millis / 1000)

    def shutdown(self) -> None:
        if self._shutdown:
            return
        self._shutdown = True
        self._wake.set()
        self._worker.join(timeout=30)
        try:
            self._exporter.shutdown()
        except Exception:
            logger.warning("tracepond: exporter shutdown failed", exc_info=True)
