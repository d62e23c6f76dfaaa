"""The command line: help a person can read (descriptions with examples, no markup), the demo
over either OTLP protocol, and the flags a supervising process uses (--ready-file,
--parent-pid)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import TracepondProcess, clean_env
from tracepond import cli

SRC = str(Path(cli.__file__).resolve().parents[1])


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_is_plain_text_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys)
    assert "``" not in text and ":mod:" not in text
    assert "examples:" in text
    assert "\n  tracepond serve --demo " in text  # the description's own layout is kept
    for command in ("serve", "demo", "export", "reindex"):
        assert f"tracepond {command}" in text


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_serve_and_demo_have_a_description_and_examples(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = help_text(capsys, command)
    description = text.split("\n\n")[1]
    assert len(description.split()) > 20, text
    examples = text.split("examples:\n", 1)[1]
    assert f"\n  tracepond {command}\n" in "\n" + examples, text


def test_demo_help_lists_the_protocols(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys, "demo")
    assert "--protocol {http/protobuf,grpc}" in text


def test_demo_protocol_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["demo", "--protocol", "http/json"])
    assert exited.value.code == 2
    assert "invalid choice: 'http/json'" in capsys.readouterr().err
    args = cli._parser().parse_args(["demo", "--protocol", "http"])
    assert args.protocol == "http/protobuf"


def run_cli(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", *argv],
        capture_output=True,
        text=True,
        env=clean_env({"PYTHONPATH": SRC}),
        timeout=timeout,
        check=False,
    )


def wait_for_traces(server: TracepondProcess, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while True:
        traces = server.all_traces()
        if len(traces) >= count or time.monotonic() > deadline:
            return traces
        time.sleep(0.2)


@pytest.mark.slow
def test_demo_over_grpc(start_tracepond: Any) -> None:
    server: TracepondProcess = start_tracepond()
    done = run_cli("demo", "--protocol", "grpc", "--endpoint", f"http://{server.grpc}")
    assert done.returncode == 0, done.stderr
    traces = wait_for_traces(server, 4)
    assert len(traces) == 4 and {t["service_name"] for t in traces} == {"tracepond-demo"}
    # Over gRPC the links cannot be guessed: the trace ids are printed instead.
    assert all(f"trace {t['trace_id']}" in done.stdout for t in traces), done.stdout


def test_ready_file_reports_the_bound_ports(start_tracepond: Any, tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    server: TracepondProcess = start_tracepond("--ready-file", str(ready))
    deadline = time.monotonic() + 30  # written just after the ready line
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    info = json.loads(ready.read_text())
    assert info["http"] == server.http and info["grpc"] == server.grpc
    assert info["url"] == f"{server.url}/"
    assert info["pid"] == server.pid
    assert Path(info["db"]) == server.db_path
    assert info["version"] == server.version


def test_parent_pid_must_be_the_parent(tmp_path: Path) -> None:
    done = run_cli(
        "serve", "--grpc-port", "0", "--http-port", "0", "--db", str(tmp_path / "t.duckdb"),
        "--parent-pid", "1",
    )  # fmt: skip
    assert done.returncode == 2
    assert "--parent-pid 1 is not this process's parent" in done.stderr
    assert not (tmp_path / "t.duckdb").exists()
