"""``otel-collector.yaml``: parsed, and every pipeline's wiring checked against what is defined;
the exporters point at tracepond's default ports; the commented ``filter`` processor, once
uncommented, is valid YAML that keeps only GenAI spans."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tracepond.server_settings import ServerSettings

yaml = pytest.importorskip("yaml")

CONFIG = Path(__file__).resolve().parents[2] / "otel-collector.yaml"
ENV_DEFAULT = re.compile(r"^\$\{env:(?P<name>[A-Z_]+):-(?P<default>[^}]*)\}$")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text())
    assert isinstance(loaded, dict)
    return loaded


def env_default(value: str) -> tuple[str, str]:
    match = ENV_DEFAULT.match(value)
    assert match, f"{value!r} should be ${{env:NAME:-default}}"
    return match["name"], match["default"]


def test_every_component_in_a_pipeline_is_defined(config: dict[str, Any]) -> None:
    pipelines = config["service"]["pipelines"]
    assert "traces" in pipelines
    for name, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipeline.get(kind, []):
                assert component in config[kind], f"pipeline {name}: {kind} {component} undefined"
        assert pipeline["receivers"] and pipeline["exporters"]
    for extension in config["service"].get("extensions", []):
        assert extension in config["extensions"]


def test_processors_protect_the_collector(config: dict[str, Any]) -> None:
    processors = config["service"]["pipelines"]["traces"]["processors"]
    # memory_limiter must run first and batch last (the collector's own guidance).
    assert processors[0] == "memory_limiter"
    assert processors[-1] == "batch"
    limiter = config["processors"]["memory_limiter"]
    assert {"check_interval", "limit_mib", "spike_limit_mib"} <= set(limiter)
    assert limiter["spike_limit_mib"] < limiter["limit_mib"]
    batch = config["processors"]["batch"]
    assert batch["send_batch_size"] <= batch["send_batch_max_size"]


def test_receivers_take_otlp_grpc_and_http(config: dict[str, Any]) -> None:
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    assert (
        protocols["grpc"]["max_recv_msg_size_mib"] * 1024 * 1024 <= ServerSettings().max_body_bytes
    )


def test_exporters_point_at_tracepond_defaults(config: dict[str, Any]) -> None:
    defaults = ServerSettings()
    exporters = config["exporters"]
    grpc = exporters["otlp/tracepond"]
    http = exporters["otlphttp/tracepond"]
    name, endpoint = env_default(grpc["endpoint"])
    assert name == "TRACEPOND_GRPC_ENDPOINT"
    assert endpoint.rsplit(":", 1)[1] == str(defaults.grpc_port)
    assert env_default(grpc["tls"]["insecure"]) == ("TRACEPOND_INSECURE", "true")
    name, endpoint = env_default(http["endpoint"])
    assert name == "TRACEPOND_HTTP_ENDPOINT"
    assert endpoint.startswith("http://")
    assert endpoint.rsplit(":", 1)[1] == str(defaults.http_port)
    for exporter in (grpc, http):
        assert exporter["retry_on_failure"]["enabled"] is True
        assert exporter["sending_queue"]["enabled"] is True
        assert exporter["compression"] == "gzip"
        assert exporter["headers"]["authorization"] == "Bearer ${env:TRACEPOND_API_KEY:-}"
        assert env_default(exporter["tls"]["ca_file"]) == ("TRACEPOND_CA_FILE", "")
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["otlp/tracepond"]


def test_commented_filter_processor_is_valid_when_enabled() -> None:
    lines = CONFIG.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "# filter/llm_only:")
    block = []
    for line in lines[start:]:
        if not line.startswith("  #"):
            break
        block.append(line.replace("  # ", "  ", 1).replace("  #", "", 1))
    enabled = yaml.safe_load("processors:\n" + "\n".join(block))
    llm_only = enabled["processors"]["filter/llm_only"]
    (condition,) = llm_only["traces"]["span"]
    for attribute in ("gen_ai.", "openinference.span.kind", "traceloop.span.kind"):
        assert f'attributes["{attribute}' in condition
    # Dropped when none of them is present: every clause tests absence, joined by "and".
    clauses = condition.split(" and ")
    assert all(clause.strip().endswith("== nil") for clause in clauses)


def test_commented_project_header_is_valid_when_enabled() -> None:
    """Uncommenting the x-tracepond-project line gives each exporter that header (lower case,
    as gRPC metadata must be) beside the key's."""
    text = CONFIG.read_text().replace("# x-tracepond-project:", "x-tracepond-project:")
    for exporter in yaml.safe_load(text)["exporters"].values():
        headers = exporter["headers"]
        assert env_default(headers["x-tracepond-project"]) == ("TRACEPOND_PROJECT", "default")
        assert set(headers) == {"authorization", "x-tracepond-project"}
