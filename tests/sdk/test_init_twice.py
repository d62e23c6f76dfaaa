"""`init()` again with another service name cannot rename the process's service (OpenTelemetry
fixes it in the TracerProvider's resource): it says so, once, in words, with what to do."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracepond

from .spans import Spans

SRC = str(Path(tracepond.__file__).resolve().parents[1])


def run_script(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": SRC},
        timeout=60,
        check=True,
    )


def test_second_init_with_another_service_name_warns_once_with_the_way_out() -> None:
    code = """
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import tracepond

        exporter = InMemorySpanExporter()
        tracepond.init(service_name="first-name", exporter=exporter, batch=False)
        tracepond.init(service_name="second-name", exporter=exporter, batch=False)
        tracepond.init(service_name="second-name", exporter=exporter, batch=False)  # said once
        tracepond.shutdown()
        later = InMemorySpanExporter()
        tracepond.init(service_name="second-name", exporter=later, batch=False)
        tracepond.init(exporter=later, batch=False)  # no name asked for: nothing to say
        with tracepond.span("step"):
            pass
        print([s.resource.attributes["service.name"] for s in later.get_finished_spans()])
    """
    result = run_script(code)
    assert result.stdout.strip() == "['first-name']"
    warnings = [line for line in result.stderr.splitlines() if "service" in line]
    assert len(warnings) == 1, result.stderr
    warning = warnings[0]
    assert "init(service_name='second-name') keeps the service name 'first-name'" in warning
    assert "shutdown() then init() can" in warning  # what does not work ...
    assert "restart the kernel" in warning and "OTEL_SERVICE_NAME=second-name" in warning


def test_the_same_name_again_says_nothing() -> None:
    code = """
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        import tracepond

        tracepond.init(service_name="same", exporter=InMemorySpanExporter())
        tracepond.init(service_name="same", exporter=InMemorySpanExporter())
    """
    assert run_script(code).stderr == ""


def test_a_name_the_applications_provider_overrides_is_warned_about(
    spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"not-the-apps-name-{spans.mode}"  # warned once per process: one per parameter
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        spans.init(service_name=name)
        spans.init(service_name=name)
    said = [r.getMessage() for r in caplog.records if name in r.getMessage()]
    assert len(said) == 1, caplog.text
    assert "is ignored: the application's TracerProvider" in said[0]
    assert "Resource of that TracerProvider" in said[0]
