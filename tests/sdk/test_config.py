"""Settings precedence (argument > env > default) and init() behaviour."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tracepond
from tracepond.sdk._config import resolve

from .spans import Spans, attr

SRC = str(Path(tracepond.__file__).resolve().parents[1])


def test_defaults() -> None:
    settings = resolve(env={})
    assert settings.endpoint == "http://localhost:4318/v1/traces"
    assert settings.protocol == "http/protobuf"
    assert settings.service_name is None
    assert settings.capture_content is True
    assert settings.max_value_size == 8192
    assert settings.redact == frozenset()
    assert resolve(protocol="grpc", env={}).endpoint == "http://localhost:4317"


def test_environment_is_used_when_no_argument() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:9999",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_SERVICE_NAME": "from-env",
        "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=abc, x-team=t",
        "TRACEPOND_CAPTURE_CONTENT": "false",
        "TRACEPOND_MAX_VALUE_SIZE": "100",
        "TRACEPOND_REDACT": "password, API_KEY",
    }
    settings = resolve(env=env)
    assert settings.endpoint == "http://collector:9999/v1/traces"
    assert settings.service_name == "from-env"
    assert settings.headers == {"x-api-key": "abc", "x-team": "t"}
    assert settings.capture_content is False
    assert settings.max_value_size == 100
    assert settings.redact == {"password", "api_key"}
    specific = {**env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://other:1/custom"}
    assert resolve(env=specific).endpoint == "http://other:1/custom"
    grpc = {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "h:4317"}
    assert (resolve(env=grpc).protocol, resolve(env=grpc).endpoint) == ("grpc", "h:4317")


def test_arguments_beat_environment() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:9999",
        "OTEL_SERVICE_NAME": "from-env",
        "TRACEPOND_CAPTURE_CONTENT": "false",
    }
    settings = resolve(
        endpoint="127.0.0.1:4000",
        service_name="from-arg",
        capture_content=True,
        headers={"a": "b"},
        env=env,
    )
    assert settings.endpoint == "http://127.0.0.1:4000/v1/traces"
    assert settings.service_name == "from-arg"
    assert settings.capture_content is True
    assert settings.headers == {"a": "b"}
    assert resolve(endpoint="http://h:1/v1/traces", env={}).endpoint == "http://h:1/v1/traces"


def test_bad_environment_values_fall_back_bad_arguments_raise() -> None:
    env = {
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "TRACEPOND_CAPTURE_CONTENT": "maybe",
        "TRACEPOND_MAX_VALUE_SIZE": "lots",
    }
    settings = resolve(env=env)
    assert settings.protocol == "http/protobuf"
    assert settings.capture_content is True
    assert settings.max_value_size == 8192
    with pytest.raises(ValueError, match="protocol"):
        resolve(protocol="carrier-pigeon", env={})
    with pytest.raises(ValueError, match="max_value_size"):
        resolve(max_value_size=1, env={})


def test_init_twice_switches_exporter_and_keeps_the_provider(spans: Spans) -> None:
    provider = otel_trace.get_tracer_provider()
    second = InMemorySpanExporter()
    tracepond.init(exporter=second, batch=False)
    tracepond.init(exporter=second, batch=False)
    with tracepond.span("after"):
        pass
    assert otel_trace.get_tracer_provider() is provider
    assert spans.all() == ()
    assert [s.name for s in second.get_finished_spans()] == ["after"]


def test_capture_content_off_globally(spans: Spans) -> None:
    spans.init(capture_content=False)

    @tracepond.trace(name="quiet", kind="tool")
    def quiet(secret: str) -> str:
        return secret

    assert quiet("s3cr3t") == "s3cr3t"
    span = spans.named("quiet")
    assert attr(span, "tracepond.input") is None
    assert attr(span, "gen_ai.tool.call.arguments") is None
    assert attr(span, "gen_ai.tool.name") == "quiet"


def test_explicit_tracer_provider(spans: Spans) -> None:
    own = TracerProvider()
    exporter = InMemorySpanExporter()
    tracepond.init(exporter=exporter, batch=False, tracer_provider=own)
    with tracepond.span("private"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["private"]


def run_script(code: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC, **(env or {})},
        timeout=60,
        check=True,
    )
    return result.stdout


def test_new_process_gets_a_provider_with_service_name_and_flushes_at_exit(
    tmp_path: Path,
) -> None:
    out = tmp_path / "spans.txt"
    code = f"""
        from opentelemetry import trace
        from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
        import tracepond

        class FileExporter(SpanExporter):
            def export(self, spans):
                with open({str(out)!r}, "a") as f:
                    for s in spans:
                        f.write(s.name + " " + s.resource.attributes["service.name"] + "\\n")
                return SpanExportResult.SUCCESS

        tracepond.init(service_name="from-arg", exporter=FileExporter())
        tracepond.init(service_name="from-arg", exporter=FileExporter())  # safe twice
        print(type(trace.get_tracer_provider()).__name__)

        @tracepond.trace
        def work():
            return 1

        work()
        # no flush(): the exit hook must export the batch
    """
    assert run_script(code, {"OTEL_SERVICE_NAME": "from-env"}).strip() == "TracerProvider"
    assert out.read_text().splitlines() == ["work from-arg"]


def test_app_provider_is_kept_and_extended(tmp_path: Path) -> None:
    code = """
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import tracepond

        app_exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": "app"}))
        provider.add_span_processor(SimpleSpanProcessor(app_exporter))
        trace.set_tracer_provider(provider)
        ours = InMemorySpanExporter()
        tracepond.init(exporter=ours, batch=False, service_name="ignored")
        with tracepond.context(session_id="s"), tracepond.span("step"):
            pass
        print(trace.get_tracer_provider() is provider)
        print([s.name for s in app_exporter.get_finished_spans()])
        print([(s.name, s.attributes["session.id"]) for s in ours.get_finished_spans()])
    """
    assert run_script(code).splitlines() == ["True", "['step']", "[('step', 's')]"]


def test_otel_sdk_disabled() -> None:
    code = """
        import tracepond
        settings = tracepond.init()
        from opentelemetry import trace
        print(settings.disabled, type(trace.get_tracer_provider()).__name__)
    """
    assert run_script(code, {"OTEL_SDK_DISABLED": "true"}).strip() == "True ProxyTracerProvider"
