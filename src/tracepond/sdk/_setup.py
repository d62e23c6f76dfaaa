"""`tracepond.init()`, `flush()` and `shutdown()`: wire OpenTelemetry to a tracepond server."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from typing import cast

from opentelemetry import trace as otel_trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from tracepond.sdk import _ids, _runtime
from tracepond.sdk._batch import EncodingBatchProcessor, SerializedSpanExporter
from tracepond.sdk._config import Settings, resolve
from tracepond.sdk._delivery import Delivery, ReportingExporter
from tracepond.sdk._exporters import build_exporter
from tracepond.sdk._pipeline import Pipeline, shutdown_quietly

logger = logging.getLogger("tracepond")

_lock = threading.Lock()
# One pipeline per provider we were pointed at (normally exactly one: the global provider).
_pipelines: dict[int, tuple[TracerProvider, Pipeline]] = {}
_atexit_registered = False
# The exporter of the last init(): re-initializing with the same object must not shut it down.
_exporter: SpanExporter | None = None
# What became of the exported spans since the last flush(), whichever init() exported them.
_delivery = Delivery()
# The TracerProvider tracepond made and set globally (at most one per process), and the service
# names init() was asked for in vain, already warned about.
_created: list[TracerProvider] = []
_warned_names: set[str] = set()


def init(
    endpoint: str | None = None,
    *,
    service_name: str | None = None,
    protocol: str | None = None,
    headers: Mapping[str, str] | None = None,
    capture_content: bool | None = None,
    max_value_size: int | None = None,
    redact: Iterable[str] | None = None,
    api_key: str | None = None,
    project: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    exporter: SpanExporter | None = None,
    batch: bool = True,
    tracer_provider: TracerProvider | None = None,
) -> Settings:
    """Send this process's spans to a tracepond server. Safe to call again: the endpoint,
    exporter and capture settings change; the service name cannot (OpenTelemetry fixes it when
    the process's TracerProvider is made), and a different one is warned about, once.

    `endpoint` is the server's OTLP base URL (`http://host:4318`, or `http://host:4317` with
    `protocol="grpc"`). Each argument falls back to its `OTEL_*` / `TRACEPOND_*` variable, then
    to a default. An application that already set an SDK TracerProvider keeps it: tracepond
    adds its processor to it. `exporter` replaces the OTLP exporter (tests, custom sinks);
    `batch=False` exports each span as it ends instead of in background batches.

    `api_key` (else `TRACEPOND_API_KEY`) is sent as `authorization: Bearer <key>`, winning over
    an authorization header of `headers` / `OTEL_EXPORTER_OTLP_HEADERS`; `project` (else
    `TRACEPOND_PROJECT`) as `x-tracepond-project`. `ca_file` (else the OTel SDK's
    `OTEL_EXPORTER_OTLP_CERTIFICATE`) is the CA certificate to trust for an https endpoint
    signed by a private CA (docs/sdk.md, "API keys, projects and TLS").
    """
    settings = resolve(
        endpoint=endpoint,
        protocol=protocol,
        service_name=service_name,
        headers=headers,
        capture_content=capture_content,
        max_value_size=max_value_size,
        redact=redact,
        api_key=api_key,
        project=project,
        ca_file=ca_file,
    )
    if settings.disabled:
        logger.info("tracepond: OTEL_SDK_DISABLED is set, not exporting spans")
        _runtime.install(settings, None)
        return settings
    span_exporter = exporter if exporter is not None else build_exporter(settings)
    processor = _processor(span_exporter, batch)
    global _exporter
    with _lock:
        provider = _choose_provider(tracer_provider, settings)
        _ids.adopt(provider)  # before _runtime.install makes our tracer, which reads it
        previous = _pipeline_for(provider).replace(processor)
        reused, _exporter = span_exporter is _exporter, span_exporter
        _runtime.install(settings, provider)
        _register_atexit()
    if previous is not None:
        previous.force_flush()
        if not reused:
            shutdown_quietly(previous)
    return settings


def _processor(exporter: SpanExporter, batch: bool) -> SpanProcessor:
    if batch and getattr(exporter, "supports_serialized", False):
        # tracepond's exporters: encode as spans end, queue bytes (see _batch).
        return EncodingBatchProcessor(cast(SerializedSpanExporter, exporter), delivery=_delivery)
    reporting = ReportingExporter(exporter, _delivery)
    return BatchSpanProcessor(reporting) if batch else SimpleSpanProcessor(reporting)


def flush(timeout_millis: int = 30_000) -> bool:
    """Export every finished span now. True when the server acknowledged every span that ended
    since the previous `flush()`; else False, and the reason is logged (once per cause). Never
    raises."""
    try:
        return _flush(timeout_millis)
    except Exception:
        logger.warning("tracepond: flush failed", exc_info=True)
        return False


def _flush(timeout_millis: int) -> bool:
    active = [
        pipeline for _, pipeline in list(_pipelines.values()) if pipeline.delegate is not None
    ]
    if not active:
        if _runtime.settings().disabled:
            return True  # OTEL_SDK_DISABLED: no span is made, none is missing
        _delivery.warn_once(
            "tracepond.init() was not called"
            if not _pipelines
            else "tracepond.shutdown() was called; tracepond.init() starts exporting again"
        )
        return False
    finished = [pipeline.force_flush(timeout_millis) for pipeline in active]
    if not all(finished):
        _delivery.warn_once(f"spans were still waiting to be sent after {timeout_millis} ms")
    return _delivery.settle() and all(finished)


def _flush_at_exit() -> None:
    # Only while exporting: a program that called shutdown() has nothing left to say.
    if any(pipeline.delegate is not None for _, pipeline in list(_pipelines.values())):
        flush(5_000)


def shutdown() -> None:
    """Flush and stop exporting. Spans made afterwards are dropped until `init()` again."""
    for _, pipeline in list(_pipelines.values()):
        pipeline.force_flush()
        pipeline.shutdown()


def _choose_provider(explicit: TracerProvider | None, settings: Settings) -> TracerProvider:
    if explicit is not None:
        return explicit
    current = otel_trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        _note_service_name(current, settings)
        return current
    provider = TracerProvider(resource=_resource(settings), id_generator=_ids.PrivateIdGenerator())
    if isinstance(current, otel_trace.ProxyTracerProvider):
        otel_trace.set_tracer_provider(provider)
        _created.append(provider)
    else:
        # A non-SDK provider we cannot add a processor to: our own spans still get exported,
        # through this private provider.
        logger.warning("tracepond: global TracerProvider is not the OTel SDK's; using our own")
    return provider


def _resource(settings: Settings) -> Resource:
    # Resource.create merges OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, the explicit
    # attributes winning, which gives argument > env > default for the service name.
    attributes = {SERVICE_NAME: settings.service_name} if settings.service_name else {}
    return Resource.create(attributes)


def _note_service_name(provider: TracerProvider, settings: Settings) -> None:
    """Say so when the service name asked for cannot be applied: OpenTelemetry fixes it in the
    provider's resource when the provider is made, and a process sets its provider only once.
    Once per name asked for, so that a notebook cell run again does not repeat it."""
    existing = provider.resource.attributes.get(SERVICE_NAME)
    wanted = settings.service_name
    if not wanted or existing == wanted or wanted in _warned_names:
        return
    _warned_names.add(wanted)
    if provider in _created:
        logger.warning(
            "tracepond: init(service_name=%r) keeps the service name %r of the first init():"
            " OpenTelemetry sets a process's service name once, when its TracerProvider is made,"
            " and neither init() again nor shutdown() then init() can change it. To send spans"
            " as %r, start a new process (in a notebook: restart the kernel) with"
            " init(service_name=%r) or OTEL_SERVICE_NAME=%s set before the first init()."
            " (The endpoint and the other settings do change with each init().)",
            wanted,
            existing,
            wanted,
            wanted,
            wanted,
        )
    else:
        logger.warning(
            "tracepond: init(service_name=%r) is ignored: the application's TracerProvider,"
            " which tracepond exports from, names the service %r. Set service.name in the"
            " Resource of that TracerProvider (or OTEL_SERVICE_NAME before it is made).",
            wanted,
            existing,
        )


def _pipeline_for(provider: TracerProvider) -> Pipeline:
    entry = _pipelines.get(id(provider))
    if entry is None:
        pipeline = Pipeline()
        provider.add_span_processor(pipeline)
        _pipelines[id(provider)] = (provider, pipeline)
        return pipeline
    return entry[1]


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_flush_at_exit)
        _atexit_registered = True
