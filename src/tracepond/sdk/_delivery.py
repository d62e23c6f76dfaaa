"""Whether the spans handed to an exporter reached the server, and in words why not.

`tracepond.flush()` answers "were my spans delivered?", so every export result is recorded here
(batches are sent in a background thread, long before a flush may ask). A failure is logged
once per cause, in words that point at the fix ("no tracepond server at ... — is `tracepond
serve` running?"), not once per batch: a script that keeps tracing while the server is down
logs one line, not one per second. A cause is logged again after a later batch got through, so
a second outage is reported too. Nothing here raises.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger("tracepond")


class Delivery:
    """Spans lost since the last `settle()`, and the causes already logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lost = 0
        self._logged: set[str] = set()

    def delivered(self) -> None:
        """A batch was acknowledged: the next failure of any cause is news again."""
        if self._logged:
            with self._lock:
                self._logged.clear()

    def lost(self, count: int, cause: str | None) -> None:
        """`count` spans will never reach the server; `cause` is logged unless it was already
        (None: the caller logs it itself)."""
        with self._lock:
            self._lost += count
            new = cause is not None and cause not in self._logged
            if new and cause is not None:
                self._logged.add(cause)
        if new:
            logger.warning("tracepond: spans not delivered: %s", cause)

    def warn_once(self, cause: str) -> None:
        """Log `cause` unless it was already; no span is counted (flush's own causes)."""
        self.lost(0, cause)

    def settle(self) -> bool:
        """True when no span was lost since the previous call."""
        with self._lock:
            lost, self._lost = self._lost, 0
        return lost == 0


def why_failed(exporter: Any) -> str:
    """The exporter's own account of its last failure (tracepond's exporters keep one)."""
    cause = getattr(exporter, "last_failure", None)
    if isinstance(cause, str) and cause:
        return cause
    return f"the exporter ({type(exporter).__name__}) reported a failure"


def base_url(endpoint: str) -> str:
    """`http://host:4318` of `http://host:4318/v1/traces`: what `tracepond.init()` takes."""
    parts = urlsplit(endpoint if "://" in endpoint else "http://" + endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def no_server(endpoint: str) -> str:
    return f"no tracepond server at {base_url(endpoint)} — is `tracepond serve` running?"


def refused_key(endpoint: str, unauthenticated: bool, answer: str) -> str:
    """A 401 / UNAUTHENTICATED (no valid key) or 403 / PERMISSION_DENIED (a key that may not
    write there), in words; never the key itself."""
    why = (
        "the key is missing, unknown, revoked or expired (init(api_key=...) or TRACEPOND_API_KEY)"
        if unauthenticated
        else "the key may not send spans to this project (an ingest key of another project?)"
    )
    return f"the server refused the API key: {base_url(endpoint)} answered {answer}; {why}"


def http_failure(endpoint: str, status: int | None, error: object, connection_error: bool) -> str:
    """Why an OTLP/HTTP export failed, from its status code or transport error."""
    if status is None:
        if connection_error:
            return no_server(endpoint)
        if error is None:
            return f"the export to {endpoint} was abandoned (the exporter is shutting down)"
        if "timeout" in type(error).__name__.lower():
            return f"{endpoint} did not answer in time"
        return f"could not send to {endpoint}: {error}"
    if status == 404:
        return f"{endpoint} answered 404: is the URL the tracepond server's base URL?"
    if status in (401, 403):
        return refused_key(endpoint, status == 401, f"HTTP {status}")
    if status == 413:
        return f"{endpoint} answered 413: the batch is larger than the server accepts"
    if status in (429, 502, 503, 504):
        return f"{endpoint} answered {status} until the export timeout: the server is overloaded"
    return f"{endpoint} answered {status}"


def grpc_failure(endpoint: str, code_name: str | None, details: str | None) -> str:
    """Why an OTLP/gRPC export failed, from the status of its last call."""
    if code_name is None:
        return f"the export to {endpoint} failed"
    if code_name == "UNAVAILABLE" and "connect" in (details or "").lower():
        return no_server(endpoint)
    if code_name == "UNIMPLEMENTED":
        return (
            f"{endpoint} answered UNIMPLEMENTED: is it the tracepond server's gRPC port "
            "(4317; 4318 is OTLP/HTTP)?"
        )
    if code_name in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return refused_key(endpoint, code_name == "UNAUTHENTICATED", f"{code_name}: {details}")
    if code_name == "DEADLINE_EXCEEDED":
        return f"{endpoint} did not answer in time"
    return f"{endpoint} answered {code_name}: {details or 'no details'}"


class ReportingExporter(SpanExporter):
    """Wraps an exporter that OTel's processors drive (`batch=False`, or an exporter that is
    not tracepond's) so that its results reach a `Delivery`."""

    def __init__(self, exporter: SpanExporter, delivery: Delivery) -> None:
        self.exporter = exporter
        self._delivery = delivery

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.exporter.export(spans)
        except Exception as exc:
            self._delivery.lost(len(spans), f"the exporter raised {exc!r}")
            raise
        if result is SpanExportResult.SUCCESS:
            self._delivery.delivered()
        else:
            self._delivery.lost(len(spans), why_failed(self.exporter))
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)
