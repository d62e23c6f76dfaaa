"""Forwarding through a real OpenTelemetry collector: the OTel SDK exports to rotel (a collector
shipped as a binary in the ``rotel`` wheel), rotel forwards to a running tracepond over OTLP/gRPC
or OTLP/HTTP (gzip), and the traces come back whole through tracepond's API.

This is the ``otel-collector.yaml`` recipe with rotel standing in for the OTel Collector: both
receive OTLP from applications, batch, and export OTLP to tracepond."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from ingest.otlp_build import flatten
from operate.promtext import scrape, total

rotel = pytest.importorskip("rotel", reason="the rotel collector is a dev dependency")
ROTEL_AGENT = Path(rotel.__file__).parent / "rotel-agent"
WAIT_SECONDS = 60.0

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rotel exited {process.returncode}: {log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"rotel did not listen on {port}: {log.read_text()}")


@contextlib.contextmanager
def run_rotel(tmp_path: Path, target: str, protocol: str, *extra: str) -> Iterator[tuple[int, int]]:
    """rotel listening on two free ports (OTLP gRPC, OTLP HTTP), exporting to ``target``
    (``extra``: more of rotel's flags: headers, TLS)."""
    grpc_port, http_port = free_port(), free_port()
    log = tmp_path / f"rotel-{protocol}.log"
    command = [
        str(ROTEL_AGENT),
        "start",
        "--otlp-grpc-endpoint",
        f"127.0.0.1:{grpc_port}",
        "--otlp-http-endpoint",
        f"127.0.0.1:{http_port}",
        "--exporter",
        "otlp",
        "--otlp-exporter-endpoint",
        target,
        "--otlp-exporter-protocol",
        protocol,
        # rotel's default, stated: tracepond must take gzip over both transports.
        "--otlp-exporter-compression",
        "gzip",
        "--pid-file",
        str(tmp_path / f"rotel-{protocol}.pid"),
        "--log-file",
        str(log),
        *extra,
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        wait_for_port(grpc_port, process, log)
        wait_for_port(http_port, process, log)
        yield grpc_port, http_port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)


def emit_agent_trace(exporter: SpanExporter, service: str) -> tuple[str, dict[str, str | None]]:
    """A small RAG-agent trace through the SDK's batch processor; (trace id, span -> parent)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=50))
    tracer = provider.get_tracer("forwarding-test")
    with tracer.start_as_current_span("agent", kind=SpanKind.SERVER) as root:
        trace_id = format(root.get_span_context().trace_id, "032x")
        with tracer.start_as_current_span("retrieve", attributes={"retrieval.k": 3}):
            pass
        with tracer.start_as_current_span(
            "chat",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-forward",
                "gen_ai.usage.input_tokens": 17,
                "gen_ai.usage.output_tokens": 5,
            },
        ) as chat:
            chat.add_event("first token")
        with tracer.start_as_current_span("tool") as tool:
            tool.set_status(Status(StatusCode.ERROR, "no"))
    assert provider.force_flush(30_000)
    provider.shutdown()
    expected = {"agent": None, "retrieve": "agent", "chat": "agent", "tool": "agent"}
    return trace_id, expected


def wait_for_trace(
    server: Any, trace_id: str, spans: int, project: str | None = None
) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if project is None:
            tree = server.trace(trace_id)
        else:
            response = server.get(f"/api/traces/{trace_id}", project=project)
            tree = response.json() if response.status_code == 200 else None
        if tree is not None and len(flatten(tree["roots"])) >= spans:
            return tree
        if time.monotonic() > deadline:
            raise AssertionError(f"trace {trace_id} not forwarded: {tree}")
        time.sleep(0.1)


def check_tree(tree: dict[str, Any], expected: dict[str, str | None]) -> None:
    nodes = flatten(tree["roots"])
    assert sorted(n["name"] for n in nodes) == sorted(expected)
    by_id = {n["span_id"]: n for n in nodes}
    for node in nodes:
        parent = by_id[node["parent_span_id"]]["name"] if node["parent_span_id"] else None
        assert parent == expected[node["name"]]
        assert not node.get("orphan")
    chat = next(n for n in nodes if n["name"] == "chat")
    assert chat["attributes"]["gen_ai.usage.input_tokens"] == 17
    assert [e["name"] for e in chat["events"]] == ["first token"]
    assert tree["summary"]["input_tokens"] == 17
    assert tree["summary"]["error_count"] == 1


Exporter = Callable[[int, int], SpanExporter]
SENDERS: dict[str, Exporter] = {
    "sdk-grpc": lambda grpc_port, _: GrpcExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True),
    "sdk-http": lambda _, http_port: HttpExporter(
        endpoint=f"http://127.0.0.1:{http_port}/v1/traces"
    ),
}


@pytest.mark.parametrize("sender", sorted(SENDERS))
@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_sdk_to_rotel_to_tracepond(
    start_tracepond: Callable[..., Any], tmp_path: Path, protocol: str, sender: str
) -> None:
    server = start_tracepond()
    target = f"http://{server.grpc}" if protocol == "grpc" else server.url
    with run_rotel(tmp_path, target, protocol) as (grpc_port, http_port):
        service = f"forwarded-{protocol}-{sender}-{os.urandom(2).hex()}"
        trace_id, expected = emit_agent_trace(SENDERS[sender](grpc_port, http_port), service)
        tree = wait_for_trace(server, trace_id, len(expected))
    check_tree(tree, expected)
    samples = scrape(server)
    # The spans reached tracepond over the protocol rotel was told to use, and only over it.
    other = "http" if protocol == "grpc" else "grpc"
    assert total(
        samples, "tracepond_ingest_spans_total", transport=protocol, outcome="accepted"
    ) == (len(expected))
    assert total(samples, "tracepond_ingest_requests_total", transport=other) == 0
    assert total(samples, "gen_ai_client_token_usage_sum", service=service, token_type="input") == (
        17
    )


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_rotel_forwards_the_key_and_project_headers(
    start_tracepond: Callable[..., Any], tmp_path: Path, protocol: str
) -> None:
    """A collector in front of tracepond sends the ingest key and the project as headers
    (docs/operate.md): they reach the endpoint as sent (a capturing endpoint shows them), and
    tracepond takes the spans that carry them. (rotel 0.0.1-alpha10's exporter TLS options fail
    its start -- "Either both or neither of cert and key must be provided" -- whatever is given,
    so TLS to tracepond is tested with the OTel exporters in tests/tls/.)"""
    from tls.capture import grpc_capture, http_capture

    flags = (
        "--otlp-exporter-custom-headers",
        "authorization=Bearer tpk_rotel_secret,x-tracepond-project=team-a",
    )
    capture = grpc_capture if protocol == "grpc" else http_capture
    with (
        capture(None) as endpoint,
        run_rotel(tmp_path, endpoint.url, protocol, *flags) as (_, http_port),
    ):
        emit_agent_trace(
            HttpExporter(endpoint=f"http://127.0.0.1:{http_port}/v1/traces"), "via-rotel"
        )
        seen = endpoint.wait()
    assert {s.headers["authorization"] for s in seen} == {"Bearer tpk_rotel_secret"}
    assert {s.headers["x-tracepond-project"] for s in seen} == {"team-a"}

    server = start_tracepond()
    assert server.client.post("/api/projects", json={"name": "team-a"}).status_code == 201
    target = f"http://{server.grpc}" if protocol == "grpc" else server.url
    with run_rotel(tmp_path, target, protocol, *flags) as (_, http_port):
        trace_id, expected = emit_agent_trace(
            HttpExporter(endpoint=f"http://127.0.0.1:{http_port}/v1/traces"), "via-rotel-key"
        )
        tree = wait_for_trace(server, trace_id, len(expected), project="team-a")
    assert server.trace(trace_id) is None  # in team-a, not in default
    check_tree(tree, expected)
