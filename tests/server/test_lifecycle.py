"""The ``tracepond serve`` process: ready line, settings precedence on a real process, restart
on the same DB file, and no acknowledged span lost to SIGTERM or SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from ingest.otlp_build import chain, make_request, make_span, span_id, trace_id
from tracepond._version import __version__

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def post(server: Any, spans: list[Any]) -> None:
    response = server.post_otlp(make_request(spans).SerializeToString())
    assert response.status_code == 200, response.text


def test_ready_line_reports_chosen_ports_and_probes_answer(start_tracepond: Any) -> None:
    server = start_tracepond()
    ready = server.stdout_lines[0]
    assert ready == (
        f"tracepond ready grpc={server.grpc} http={server.http} db={server.db_path} "
        f"version={__version__}"
    )
    http_port, grpc_port = int(server.http.rsplit(":", 1)[1]), int(server.grpc.rsplit(":", 1)[1])
    assert http_port > 0 and grpc_port > 0 and http_port != grpc_port
    assert server.get_json("/healthz") == {"status": "ok"}
    assert server.get_json("/readyz") == {"status": "ready"}
    # The gRPC port really is the OTLP gRPC receiver.
    with grpc.insecure_channel(server.grpc) as channel:
        assert channel.unary_unary(EXPORT)(b"", timeout=30) == b""
    assert server.stop() == 0


def test_default_db_is_a_file_in_the_working_directory(
    start_tracepond: Any, tmp_path: Path
) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    server = start_tracepond(cwd=workdir, pass_db=False)
    assert str(server.db_path) == "tracepond.duckdb"
    trace = trace_id()
    post(server, [make_span(trace, span_id(), "persisted")])
    assert server.stop() == 0
    assert (workdir / "tracepond.duckdb").is_file()
    assert (workdir / "tracepond.duckdb").stat().st_size > 0
    again = start_tracepond(cwd=workdir, pass_db=False)
    assert again.trace(trace.hex())["summary"]["root_name"] == "persisted"


def test_flag_beats_env_beats_default_on_a_real_process(
    start_tracepond: Any, tmp_path: Path
) -> None:
    env_db, flag_db = tmp_path / "from-env.duckdb", tmp_path / "from-flag.duckdb"
    env = {"TRACEPOND_DB": str(env_db), "TRACEPOND_MAX_BODY_BYTES": "4000"}
    server = start_tracepond("--db", str(flag_db), env=env, pass_db=False)
    assert server.db_path == flag_db
    # The env limit applies (no flag given): 4000 bytes.
    trace = trace_id()
    big = make_request([make_span(trace, span_id(), "x", attributes={"a": "a" * 5000})])
    assert server.post_otlp(big.SerializeToString()).status_code == 413
    server.stop()
    # ...and the flag beats the env limit.
    server = start_tracepond("--max-body-bytes", "100000", db_path=flag_db, env=env)
    assert server.post_otlp(big.SerializeToString()).status_code == 200
    server.stop()
    assert flag_db.is_file()
    assert not env_db.exists()
    # Env only: TRACEPOND_DB is used when no flag is given.
    server = start_tracepond(env=env, pass_db=False, cwd=tmp_path)
    assert server.db_path == env_db
    server.stop()
    assert env_db.is_file()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--grpc-port", "70000"], {}),
        (["--max-body-bytes", "0"], {}),
        ([], {"TRACEPOND_MAX_QUEUED_SPANS": "-5"}),
        ([], {"TRACEPOND_HTTP_PORT": "not-a-port"}),
    ],
    ids=["port-range", "zero-limit", "negative-env", "non-numeric-env"],
)
def test_invalid_settings_exit_2(tmp_path: Path, args: list[str], env: dict[str, str]) -> None:
    from conftest import clean_env, tracepond_command

    result = subprocess.run(
        tracepond_command("--db", str(tmp_path / "x.duckdb"), *args),
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result
    assert "invalid setting" in result.stderr
    assert "tracepond ready" not in result.stdout


def test_port_in_use_fails_cleanly(start_tracepond: Any, tmp_path: Path) -> None:
    from conftest import clean_env, tracepond_command

    first = start_tracepond()
    port = first.http.rsplit(":", 1)[1]
    result = subprocess.run(
        tracepond_command(
            "--db", str(tmp_path / "second.duckdb"), "--grpc-port", "0", "--http-port", port
        ),
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result
    assert "tracepond ready" not in result.stdout
    assert result.stderr.strip()
    assert first.get_json("/healthz") == {"status": "ok"}


def test_restart_after_sigterm_keeps_committed_data(start_tracepond: Any) -> None:
    server = start_tracepond()
    traces = []
    for i in range(5):
        trace = trace_id()
        post(server, chain(trace, 4 + i))
        traces.append((trace.hex(), 4 + i))
    grpc_trace = trace_id()
    with grpc.insecure_channel(server.grpc) as channel:
        channel.unary_unary(EXPORT)(
            make_request(chain(grpc_trace, 3)).SerializeToString(), timeout=30
        )
    traces.append((grpc_trace.hex(), 3))
    listed = server.all_traces()
    trees = {t: server.trace(t) for t, _ in traces}
    assert server.stop() == 0
    assert "database closed" in server.stderr()

    again = start_tracepond()
    assert again.db_path == server.db_path
    assert again.all_traces() == listed
    for trace, count in traces:
        assert again.trace(trace) == trees[trace]
        assert again.trace(trace)["summary"]["span_count"] == count
    # The reopened store keeps working and keeps writes idempotent.
    post(again, chain(bytes.fromhex(traces[0][0]), 2))
    assert again.trace(traces[0][0])["summary"]["span_count"] == traces[0][1] + 2
    assert again.stop() == 0


SPANS_PER_REQUEST = 25


def stream_until_signal(server: Any, sig: signal.Signals) -> list[str]:
    """Four threads post OTLP/HTTP requests (one whole trace each) until the server gets
    ``sig`` after 60 acknowledged requests; returns the trace ids of the acknowledged ones."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                trace = trace_id()
                spans = chain(trace, SPANS_PER_REQUEST)
                spans[3].attributes.add(key="payload").value.string_value = "p" * 20_000
                try:
                    response = client.post(
                        "/v1/traces",
                        content=make_request(spans).SerializeToString(),
                        headers={"Content-Type": "application/x-protobuf"},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    with lock:
                        acknowledged.append(trace.hex())
                elif response.status_code != 503:
                    raise AssertionError(response.text)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 120
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(acknowledged) >= 60, "the server did not acknowledge requests"
        server.process.send_signal(sig)
        server.process.wait(60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
    with lock:
        return list(acknowledged)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_no_acknowledged_span_lost(start_tracepond: Any, sig: signal.Signals) -> None:
    server = start_tracepond()
    acknowledged = stream_until_signal(server, sig)
    if sig == signal.SIGTERM:
        assert server.process.returncode == 0
    else:
        assert server.process.returncode == -signal.SIGKILL

    again = start_tracepond()
    for trace in acknowledged:
        tree = again.trace(trace)
        assert tree is not None, f"acknowledged trace {trace} lost"
        assert tree["summary"]["span_count"] == SPANS_PER_REQUEST
    # A request is one transaction: whatever was stored (acknowledged or not) is whole.
    stored = again.all_traces()
    assert len(stored) >= len(acknowledged)
    assert all(t["span_count"] == SPANS_PER_REQUEST for t in stored)
