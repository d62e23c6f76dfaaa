"""`tracepond.flush()` returns whether the server acknowledged the spans, and logs in words why
not, once per cause: no server, a wrong URL, no `init()`. Real servers, real exporters."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

import tracepond

NO_SERVER = "no tracepond server at {} — is `tracepond serve` running?"


@pytest.fixture(autouse=True)
def _quick_export_timeout(
    monkeypatch: pytest.MonkeyPatch, provider: TracerProvider
) -> Iterator[None]:
    # OTel's exporters retry for their whole timeout (10 s by default) before giving up.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "2")
    yield
    tracepond.shutdown()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def one_trace(name: str) -> str:
    with tracepond.span(name, "agent") as handle:
        return handle.trace_id


def wait_for_trace(server: Any, trace_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (found := server.trace(trace_id)) is None:
        assert time.monotonic() < deadline, f"trace {trace_id} never stored"
        time.sleep(0.1)
    return found


def warnings_with(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "tracepond" and r.levelno >= logging.WARNING and text in r.getMessage()
    ]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_true_when_the_server_took_the_spans(tracepond_server: Any, protocol: str) -> None:
    address = tracepond_server.url if protocol == "http" else f"http://{tracepond_server.grpc}"
    tracepond.init(address, protocol=protocol, service_name="flush-ok")
    trace_id = one_trace("delivered")
    assert tracepond.flush() is True
    assert wait_for_trace(tracepond_server, trace_id)


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_false_when_no_server_listens_logged_once(
    tracepond_server: Any, caplog: pytest.LogCaptureFixture, protocol: str
) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        tracepond.init(base, protocol=protocol)
        one_trace("lost")
        assert tracepond.flush() is False
        one_trace("lost again")
        assert tracepond.flush() is False
    assert len(warnings_with(caplog, NO_SERVER.format(base))) == 1, caplog.text
    # The server is back (here: another one): the next flush is True again.
    address = tracepond_server.url if protocol == "http" else f"http://{tracepond_server.grpc}"
    tracepond.init(address, protocol=protocol)
    trace_id = one_trace("delivered")
    assert tracepond.flush() is True
    assert wait_for_trace(tracepond_server, trace_id)


def test_false_on_a_wrong_url_path(tracepond_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    wrong = f"{tracepond_server.url}/tracepond"  # a path the server does not serve
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        tracepond.init(wrong)
        one_trace("misdirected")
        assert tracepond.flush() is False
    endpoint = f"{wrong}/v1/traces"
    expected = f"{endpoint} answered 404: is the URL the tracepond server's base URL?"
    assert len(warnings_with(caplog, expected)) == 1, caplog.text


def test_false_after_shutdown(tracepond_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    tracepond.init(tracepond_server.url)
    assert tracepond.flush() is True
    tracepond.shutdown()
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        one_trace("after shutdown")
        assert tracepond.flush() is False
    assert warnings_with(caplog, "tracepond.shutdown() was called"), caplog.text


def test_false_without_init_says_so(tmp_path: Path) -> None:
    script = tmp_path / "no_init.py"
    script.write_text(
        "import tracepond\n"
        "with tracepond.span('never sent'):\n"
        "    pass\n"
        "print(tracepond.flush(), tracepond.flush())\n"
    )
    src = str(Path(tracepond.__file__).parents[1])
    done = subprocess.run(
        [sys.executable, str(script)],
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
    assert done.stderr.count("tracepond.init() was not called") == 1, done.stderr


class _Refusing:
    """A serialized-span exporter whose server never takes anything."""

    supports_serialized = True
    last_failure = "the test server refused the batch"

    def __init__(self) -> None:
        self.calls = threading.Event()

    def export(self, spans: Any) -> SpanExportResult:
        self.calls.set()
        return SpanExportResult.FAILURE

    def export_serialized(self, body: bytes, span_count: int) -> SpanExportResult:
        return self.export(())

    def shutdown(self) -> None:
        pass


def test_false_when_a_background_batch_failed_before_the_flush(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    refusing = _Refusing()
    with caplog.at_level(logging.WARNING, logger="tracepond"):
        tracepond.init(exporter=refusing)
        one_trace("sent in the background")
        assert refusing.calls.wait(60)  # the batch left before flush() was called
        assert tracepond.flush() is False
    assert len(warnings_with(caplog, refusing.last_failure)) == 1, caplog.text
    assert tracepond.flush() is True  # nothing lost since the previous flush
