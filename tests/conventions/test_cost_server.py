"""Computed costs through a real server: the OTel SDK's own exporter sends LLM calls, the API,
/api/stats, sessions and /metrics show their cost; a --prices file is applied by the decode
workers; `tracepond reindex` reprices after a price change; a bad file stops the start."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

SESSION = "cost-session"


def send_llm_calls(url: str, calls: list[dict[str, Any]]) -> list[str]:
    """One trace per call (an agent span over one chat span), sent by the OTel SDK's exporter;
    the trace ids, hex."""
    provider = TracerProvider(resource=Resource.create({"service.name": "cost-test"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(f"{url}/v1/traces")))
    tracer = provider.get_tracer("cost-test")
    trace_ids = []
    for call in calls:
        agent = {"gen_ai.operation.name": "invoke_agent", "session.id": SESSION}
        name = f"chat {call['gen_ai.request.model']}"
        with (
            tracer.start_as_current_span("agent", attributes=agent) as root,
            tracer.start_as_current_span(name, attributes=call),
        ):
            pass
        trace_ids.append(format(root.get_span_context().trace_id, "032x"))
    provider.shutdown()
    return trace_ids


def chat(model: str, provider: str, tokens_in: int, tokens_out: int, **more: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.usage.input_tokens": tokens_in,
        "gen_ai.usage.output_tokens": tokens_out,
        **more,
    }


def wait_for_traces(server: Any, trace_ids: list[str]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        trees = [server.trace(trace_id) for trace_id in trace_ids]
        if all(trees) or time.monotonic() > deadline:
            assert all(trees), "traces never arrived"
            return trees  # type: ignore[return-value]
        time.sleep(0.1)


def llm_view(tree: dict[str, Any]) -> dict[str, Any]:
    child = tree["roots"][0]["children"][0]
    return dict(child["view"])


def test_llm_calls_are_priced_and_every_total_shows_it(start_tracepond: Any) -> None:
    server = start_tracepond()
    calls = [
        chat("gpt-4o-mini", "openai", 1_000_000, 100_000),  # $0.15 + $0.06
        chat(
            "claude-sonnet-4-5",
            "anthropic",
            100_000,
            10_000,
            **{"gen_ai.usage.cache_read.input_tokens": 50_000},
        ),  # $0.15 + $0.015 + $0.15
        chat("gpt-4o", "openai", 1_000, 100, **{"gen_ai.usage.cost": 0.25}),  # sent
    ]
    trees = wait_for_traces(server, send_llm_calls(server.url, calls))
    views = [llm_view(tree) for tree in trees]
    assert views[0]["cost"] == pytest.approx(0.21)
    assert views[0]["cost_source"] == "computed"
    assert views[0]["cost_price"] == "genai-prices:openai/gpt-4o-mini"
    assert views[1]["cost"] == pytest.approx(0.315)
    assert views[1]["cost_price"] == "genai-prices:anthropic/claude-sonnet-4-5"
    assert (views[2]["cost"], views[2]["cost_source"], views[2]["cost_price"]) == (
        0.25,
        "sent",
        None,
    )
    total = 0.21 + 0.315 + 0.25
    assert [tree["summary"]["cost"] for tree in trees] == pytest.approx([0.21, 0.315, 0.25])
    session = server.get_json(f"/api/sessions/{SESSION}")
    assert sum(turn["cost"] for turn in session["traces"]) == pytest.approx(total)
    stats = server.get_json("/api/stats", bucket="1d", level="trace")["rows"]
    assert sum(row["cost"] or 0 for row in stats) == pytest.approx(total)
    spans = server.get_json("/api/spans", model="gpt-4o-mini")["spans"]
    assert [(s["cost_source"], s["cost_price"]) for s in spans] == [
        ("computed", "genai-prices:openai/gpt-4o-mini")
    ]
    metrics = server.get("/metrics").text
    mini = [line for line in metrics.splitlines() if "tracepond_gen_ai_cost" in line]
    assert any('model="gpt-4o-mini"' in line and line.endswith(" 0.21") for line in mini), mini


def write_prices(path: Path, mini_input: float) -> Path:
    path.write_text(
        "# USD per million tokens\n"
        "- model: gpt-4o-mini\n"
        f"  input: {mini_input}\n"
        "  output: 0\n"
        "- model: acme-*\n"
        "  provider: ollama\n"
        "  input: 2\n"
        "  output: 4\n"
    )
    return path


def test_price_file_overrides_reach_the_decode_workers_and_reindex_reprices(
    start_tracepond: Any, tmp_path: Path, store_kind: str
) -> None:
    prices = write_prices(tmp_path / "prices.yaml", mini_input=1)
    server = start_tracepond("--prices", str(prices), "--decode-workers", "2", store=store_kind)
    store = store_url(server)
    calls = [
        chat("gpt-4o-mini", "openai", 1_000_000, 0),
        chat("acme-13b", "ollama", 1_000_000, 1_000_000),
    ]
    first = send_llm_calls(server.url, calls)
    time.sleep(3)  # the workers are warm by now: the second batch is decoded by them
    second = send_llm_calls(server.url, calls)
    for tree in wait_for_traces(server, first + second):
        view = llm_view(tree)
        assert view["cost_source"] == "computed"
        expected = 1.0 if "gpt-4o-mini" in view["model"] else 6.0
        assert view["cost"] == pytest.approx(expected), view
        assert view["cost_price"] in ("override:gpt-4o-mini", "override:acme-*")
    assert server.get_json("/api/traces", limit=10)["traces"]
    server.stop()

    # The price changes: reindex with the new file, and every total follows.
    write_prices(prices, mini_input=3)
    done = reindex(store, "--prices", str(prices))
    assert done.returncode == 0, done.stderr
    server = start_tracepond(store=store_kind)
    trees = wait_for_traces(server, first + second)
    mini = [tree for tree in trees if "gpt-4o-mini" in llm_view(tree)["model"]]
    assert [llm_view(tree)["cost"] for tree in mini] == pytest.approx([3.0, 3.0])
    assert [tree["summary"]["cost"] for tree in mini] == pytest.approx([3.0, 3.0])
    stats = server.get_json("/api/stats", bucket="1d", group_by="model")["rows"]
    by_model = {row["group"]: row["cost"] for row in stats}
    assert by_model["gpt-4o-mini"] == pytest.approx(6.0)
    assert by_model["acme-13b"] == pytest.approx(12.0)
    session = server.get_json(f"/api/sessions/{SESSION}")
    assert sum(turn["cost"] for turn in session["traces"]) == pytest.approx(18.0)
    server.stop()

    # Without --prices, reindex prices with the bundled table: gpt-4o-mini at $0.15 / 1M,
    # and the self-hosted model is not priced.
    assert reindex(store).returncode == 0
    server = start_tracepond(store=store_kind)
    views = [llm_view(tree) for tree in wait_for_traces(server, first)]
    assert views[0]["cost"] == pytest.approx(0.15)
    assert views[0]["cost_price"] == "genai-prices:openai/gpt-4o-mini"
    assert (views[1]["cost"], views[1]["cost_source"]) == (None, None)


def store_url(server: Any) -> str:
    """The server's store as ``--store`` takes it (DuckDB file or chdb directory)."""
    scheme = "chdb" if server.store == "chdb" else "duckdb"
    return f"{scheme}://{server.data_path}"


def reindex(store: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", "reindex", "--store", store, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


SERVE = (sys.executable, "-m", "tracepond.cli", "serve", "--grpc-port", "0", "--http-port", "0")


def test_a_bad_price_file_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "prices.yaml"
    bad.write_text("- model: gpt-4o\n  input: 1\n- model: mine\n  inputt: 2\n")
    db = tmp_path / "t.duckdb"
    serve = subprocess.run(
        [*SERVE, "--db", str(db), "--prices", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert serve.returncode == 1
    assert f"price file {bad}, entry 2 (line 3): unknown key(s) inputt" in serve.stderr
    assert "Traceback" not in serve.stderr
    assert not db.exists()
    missing = subprocess.run(
        [*SERVE, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_env(), "TRACEPOND_PRICES": str(tmp_path / "nope.yaml")},
    )
    assert missing.returncode == 1
    assert "nope.yaml: cannot read it" in missing.stderr and "Traceback" not in missing.stderr
    db.touch()
    refused = reindex(f"duckdb://{db}", "--prices", str(bad))
    assert refused.returncode == 1 and "unknown key(s) inputt" in refused.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("TRACEPOND_")}
