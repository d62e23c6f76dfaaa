"""`tracepond.Client(url, api_key=, project=, verify=)` and the CLI commands that talk to a server
(`export`, `demo`): the bearer header, the project (a `project` query parameter on reads, the
`x-tracepond-project` header on OTLP), a private CA; a refused key is a clear APIError / message;
the key is never shown. Against a capturing server, and the real server over TLS."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import tracepond
from conftest import TracepondProcess, clean_env

from .capture import http_capture
from .certs import Certs

SECRET = "tpk_test0002_client-secret-value"
WAIT = 120.0


def test_client_sends_key_and_project_over_tls(certs: Certs) -> None:
    with http_capture(certs) as server:
        client = tracepond.Client(server.url, api_key=SECRET, project="team-a", verify=certs.ca)
        client.search_traces("{ }", since="1h", limit=5)
        seen = server.wait()[0]
    assert seen.path == "/api/traces"
    assert seen.headers["authorization"] == f"Bearer {SECRET}"
    assert seen.query["project"] == ["team-a"]
    assert SECRET not in repr(client)


def test_client_environment_fallbacks(certs: Certs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEPOND_API_KEY", SECRET)
    monkeypatch.setenv("TRACEPOND_PROJECT", "from-env")
    with http_capture(certs) as server:
        tracepond.Client(server.url, verify=str(certs.ca)).get("/api/traces")
        tracepond.Client(server.url, api_key="tpk_arg", project="arg", verify=certs.ca).get(
            "/api/traces"
        )
        env_seen, arg_seen = server.wait(2)
    assert env_seen.headers["authorization"] == f"Bearer {SECRET}"
    assert env_seen.query["project"] == ["from-env"]
    assert arg_seen.headers["authorization"] == "Bearer tpk_arg"
    assert arg_seen.query["project"] == ["arg"]


@pytest.mark.parametrize("status", [401, 403])
def test_client_refused_key_is_a_clear_api_error(certs: Certs, status: int) -> None:
    with http_capture(certs) as server:
        server.status = status
        client = tracepond.Client(server.url, api_key=SECRET, verify=certs.ca)
        with pytest.raises(tracepond.APIError) as refused:
            client.get("/api/traces")
    assert refused.value.status == status
    assert str(refused.value).startswith(f"{status} unauthorized: the server refused the API key")
    assert SECRET not in str(refused.value)


def test_client_refuses_a_server_its_ca_did_not_sign(certs: Certs) -> None:
    with http_capture(certs) as server:
        with pytest.raises(tracepond.APIError, match="CERTIFICATE_VERIFY_FAILED"):
            tracepond.Client(server.url, verify=certs.other_ca).get("/api/traces")
        assert server.seen == []


def test_client_reads_the_real_server_over_tls(
    start_tracepond: Callable[..., TracepondProcess], certs: Certs
) -> None:
    server = start_tracepond(
        "--tls-cert", str(certs.server_cert), "--tls-key", str(certs.server_key)
    )
    client = tracepond.Client(f"https://{server.http}", api_key=SECRET, verify=certs.ca)
    assert client.search_traces(since="1h").traces == []


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in clean_env(env).items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", *args],
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=base,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("source", ["flags", "env"])
def test_export_sends_key_and_project(certs: Certs, tmp_path: Path, source: str) -> None:
    with http_capture(certs) as server:
        server.status = 401
        out = tmp_path / "out.jsonl"
        common = ["export", "--url", server.url, "--out", str(out), "--ca-file", str(certs.ca)]
        if source == "flags":
            done = run_cli(*common, "--api-key", SECRET, "--project", "team-a")
        else:
            done = run_cli(
                *common, env={"TRACEPOND_API_KEY": SECRET, "TRACEPOND_PROJECT": "team-a"}
            )
        seen = server.wait()[0]
    assert seen.headers["authorization"] == f"Bearer {SECRET}"
    assert seen.query["project"] == ["team-a"]
    assert done.returncode == 1, done.stderr
    assert "the server refused the API key" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and SECRET not in done.stderr


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_demo_sends_key_and_project_over_tls(certs: Certs, protocol: str) -> None:
    pytest.importorskip("langchain_core")
    from .capture import grpc_capture

    capture = grpc_capture if protocol == "grpc" else http_capture
    with capture(certs) as server:
        done = run_cli(
            "demo", "--endpoint", server.url, "--protocol", protocol,
            "--project", "demo", "--ca-file", str(certs.ca),
            env={"TRACEPOND_API_KEY": SECRET},
        )  # fmt: skip
        seen = server.wait()
    assert done.returncode == 0, done.stderr
    assert "not every span reached" not in done.stdout, done.stdout
    assert {s.headers["authorization"] for s in seen} == {f"Bearer {SECRET}"}
    assert {s.headers["x-tracepond-project"] for s in seen} == {"demo"}
    assert SECRET not in done.stdout + done.stderr


def test_cli_help_names_the_flags() -> None:
    for command in ("export", "demo"):
        done = run_cli(command, "--help")
        for flag in ("--api-key", "--project", "--ca-file", "TRACEPOND_API_KEY"):
            assert flag in done.stdout, (command, flag)
