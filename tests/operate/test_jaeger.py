"""The Jaeger-compatible read API against a real server filled by the real OTel SDK exporter.

Responses are checked the way Grafana's Jaeger data source reads them (``createTraceFrame`` /
``toSpanRow`` and the search transform in grafana's ``public/app/plugins/datasource/jaeger``):
``{"data": [...]}``; per span ``traceID``, ``spanID``, ``operationName``, the parent from the
``CHILD_OF`` reference, ``processes[processID].serviceName`` and ``.tags``, ``startTime`` and
``duration`` in microseconds, ``tags`` and ``logs[].fields`` as ``{key, type, value}``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from conftest import StoreKind

TAG_TYPES = {"string": str, "bool": bool, "int64": int, "float64": float}


def _now_ns() -> int:
    return time.time_ns()


def send(server: Any, service: str, build: Callable[[Any], None]) -> None:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "deployment.environment": "test"})
    )
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server.url}/v1/traces"))
    )
    build(provider.get_tracer("jaeger-test", "1.2.3"))
    provider.shutdown()


@pytest.fixture(scope="module")
def jaeger(launch_module_tracepond: Callable[..., Any], store_kind: StoreKind) -> dict[str, Any]:
    """One server per store (tests/conftest.py: ``store_kind``), filled by the SDK exporter."""
    server = launch_module_tracepond(store=store_kind)
    suffix = os.urandom(3).hex()
    agent, other = f"agent-{suffix}", f"other-{suffix}"
    ids: dict[str, Any] = {"server": server, "agent": agent, "other": other}
    start = _now_ns() - 10_000_000_000

    def agent_trace(tracer: Any) -> None:
        with tracer.start_as_current_span(
            "handle request", kind=SpanKind.SERVER, start_time=start
        ) as root:
            ids["agent_trace"] = format(root.get_span_context().trace_id, "032x")
            ids["root"] = format(root.get_span_context().span_id, "016x")
            with tracer.start_as_current_span(
                "chat gpt-x",
                kind=SpanKind.CLIENT,
                start_time=start + 1_000_000,
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": "gpt-x",
                    "gen_ai.usage.input_tokens": 12,
                    "temperature": 0.5,
                    "stream": False,
                    "stop": ["a", "b"],
                },
            ) as chat:
                ids["chat"] = format(chat.get_span_context().span_id, "016x")
                chat.add_event("token", {"index": 3}, timestamp=start + 2_000_000)
                chat.end(end_time=start + 401_000_000)  # 400 ms
            with tracer.start_as_current_span("tool call", start_time=start + 500_000_000) as tool:
                tool.set_status(Status(StatusCode.ERROR, "tool exploded"))
                tool.end(end_time=start + 510_000_000)
            root.end(end_time=start + 600_000_000)

    def other_trace(tracer: Any) -> None:
        with tracer.start_as_current_span("lonely", start_time=start) as span:
            ids["other_trace"] = format(span.get_span_context().trace_id, "032x")
            span.end(end_time=start + 5_000_000)

    send(server, agent, agent_trace)
    send(server, other, other_trace)

    def linked_trace(tracer: Any) -> None:
        from opentelemetry.trace import SpanContext, TraceFlags

        context = SpanContext(
            int(ids["agent_trace"], 16), int(ids["root"], 16), True, TraceFlags(1)
        )
        with tracer.start_as_current_span(
            "batch job", start_time=start, links=[Link(context)]
        ) as span:
            ids["linked_trace"] = format(span.get_span_context().trace_id, "032x")
            span.end(end_time=start + 1_000_000)

    send(server, other, linked_trace)
    ids["start_us"] = start // 1000
    return ids


def get(jaeger: dict[str, Any], path: str, **params: Any) -> Any:
    response = jaeger["server"].get(f"/jaeger/api/{path}", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {"data", "total", "limit", "offset", "errors"}
    assert body["errors"] is None
    return body["data"]


def check_grafana_shape(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What Grafana's toSpanRow reads, with the types it expects; spans by spanID."""
    assert set(trace) >= {"traceID", "spans", "processes"}
    spans = {}
    for span in trace["spans"]:
        assert span["traceID"] == trace["traceID"]
        assert len(span["spanID"]) == 16
        assert isinstance(span["operationName"], str)
        assert isinstance(span["startTime"], int) and isinstance(span["duration"], int)
        process = trace["processes"][span["processID"]]
        assert isinstance(process["serviceName"], str)
        for tag in [*span["tags"], *process["tags"]]:
            assert set(tag) == {"key", "type", "value"}
            assert isinstance(tag["value"], TAG_TYPES[tag["type"]])
        for log in span["logs"]:
            assert isinstance(log["timestamp"], int)
            for field in log["fields"]:
                assert isinstance(field["value"], TAG_TYPES[field["type"]])
        for ref in span["references"]:
            assert ref["refType"] in ("CHILD_OF", "FOLLOWS_FROM")
            assert len(ref["traceID"]) == 32 and len(ref["spanID"]) == 16
        spans[span["spanID"]] = span
    return spans


def tags(span: dict[str, Any]) -> dict[str, Any]:
    return {t["key"]: (t["type"], t["value"]) for t in span["tags"]}


def test_services_and_operations(jaeger: dict[str, Any]) -> None:
    services = get(jaeger, "services")
    assert {jaeger["agent"], jaeger["other"]} <= set(services)
    assert services == sorted(services)
    operations = get(jaeger, f"services/{jaeger['agent']}/operations")
    assert operations == ["chat gpt-x", "handle request", "tool call"]
    typed = get(jaeger, "operations", service=jaeger["agent"])
    assert {"name": "chat gpt-x", "spanKind": "client"} in typed
    assert get(jaeger, "operations", service=jaeger["agent"], spanKind="server") == [
        {"name": "handle request", "spanKind": "server"}
    ]
    assert get(jaeger, "services/no-such-service/operations") == []


def test_trace_by_id_is_whole_and_shaped_for_grafana(jaeger: dict[str, Any]) -> None:
    data = get(jaeger, f"traces/{jaeger['agent_trace']}")
    assert len(data) == 1
    trace = data[0]
    assert trace["traceID"] == jaeger["agent_trace"]
    spans = check_grafana_shape(trace)
    assert len(spans) == 3
    root, chat = spans[jaeger["root"]], spans[jaeger["chat"]]
    assert root["references"] == []
    assert chat["references"] == [
        {"refType": "CHILD_OF", "traceID": jaeger["agent_trace"], "spanID": jaeger["root"]}
    ]
    assert chat["startTime"] == jaeger["start_us"] + 1_000
    assert chat["duration"] == 400_000
    chat_tags = tags(chat)
    assert chat_tags["gen_ai.request.model"] == ("string", "gpt-x")
    assert chat_tags["gen_ai.usage.input_tokens"] == ("int64", 12)
    assert chat_tags["temperature"] == ("float64", 0.5)
    assert chat_tags["stream"] == ("bool", False)
    assert chat_tags["stop"] == ("string", '["a","b"]')
    assert chat_tags["span.kind"] == ("string", "client")
    assert chat_tags["otel.scope.name"] == ("string", "jaeger-test")
    assert chat["logs"] == [
        {
            "timestamp": jaeger["start_us"] + 2_000,
            "fields": [
                {"key": "event", "type": "string", "value": "token"},
                {"key": "index", "type": "int64", "value": 3},
            ],
        }
    ]
    tool = next(s for s in spans.values() if s["operationName"] == "tool call")
    assert tags(tool)["error"] == ("bool", True)
    assert tags(tool)["otel.status_code"] == ("string", "ERROR")
    assert tags(tool)["otel.status_description"] == ("string", "tool exploded")
    process = trace["processes"][root["processID"]]
    assert process["serviceName"] == jaeger["agent"]
    assert {"key": "deployment.environment", "type": "string", "value": "test"} in process["tags"]
    assert all(t["key"] != "service.name" for t in process["tags"])


def test_links_become_follows_from(jaeger: dict[str, Any]) -> None:
    (trace,) = get(jaeger, f"traces/{jaeger['linked_trace']}")
    (span,) = check_grafana_shape(trace).values()
    assert span["references"] == [
        {"refType": "FOLLOWS_FROM", "traceID": jaeger["agent_trace"], "spanID": jaeger["root"]}
    ]


def found(jaeger: dict[str, Any], **params: Any) -> set[str]:
    data = get(jaeger, "traces", **params)
    for trace in data:
        check_grafana_shape(trace)
    return {t["traceID"] for t in data}


def test_search_by_service_and_operation(jaeger: dict[str, Any]) -> None:
    assert found(jaeger, service=jaeger["agent"]) == {jaeger["agent_trace"]}
    assert found(jaeger, service=jaeger["other"]) == {
        jaeger["other_trace"],
        jaeger["linked_trace"],
    }
    assert found(jaeger, service=jaeger["other"], operation="lonely") == {jaeger["other_trace"]}
    assert found(jaeger, service=jaeger["agent"], operation="lonely") == set()
    assert len(found(jaeger, service=jaeger["other"], limit=1)) == 1


def test_search_by_tags(jaeger: dict[str, Any]) -> None:
    agent = jaeger["agent"]
    model = json.dumps({"gen_ai.request.model": "gpt-x"})
    assert found(jaeger, service=agent, tags=model) == {jaeger["agent_trace"]}
    wrong = json.dumps({"gen_ai.request.model": "other"})
    assert found(jaeger, service=agent, tags=wrong) == set()
    assert found(jaeger, service=agent, tags='{"error": "true"}') == {jaeger["agent_trace"]}
    assert found(jaeger, service=jaeger["other"], tags='{"error": "true"}') == set()
    # A resource attribute, and the logfmt form Grafana's search form sends.
    assert found(jaeger, service=agent, tags="deployment.environment=test") == {
        jaeger["agent_trace"]
    }
    # All tags must hold on the same span.
    both = json.dumps({"gen_ai.request.model": "gpt-x", "error": "true"})
    assert found(jaeger, service=agent, tags=both) == set()


def test_search_by_duration_and_time(jaeger: dict[str, Any]) -> None:
    agent, start = jaeger["agent"], jaeger["start_us"]
    assert found(jaeger, service=agent, minDuration="350ms") == {jaeger["agent_trace"]}
    assert found(jaeger, service=agent, minDuration="1s") == set()
    assert found(jaeger, service=agent, operation="tool call", maxDuration="20ms") == {
        jaeger["agent_trace"]
    }
    assert found(jaeger, service=agent, operation="chat gpt-x", maxDuration="0.3s") == set()
    assert found(jaeger, service=agent, start=start - 1_000, end=start + 1_000_000) == {
        jaeger["agent_trace"]
    }
    assert found(jaeger, service=agent, start=start + 2_000_000) == set()
    assert found(jaeger, service=agent, end=start - 1) == set()


def test_errors(jaeger: dict[str, Any]) -> None:
    server = jaeger["server"]
    missing = server.get("/jaeger/api/traces/" + "ab" * 16)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == 404
    assert server.get("/jaeger/api/traces/not-hex").status_code == 400
    assert server.get("/jaeger/api/traces", minDuration="soon").status_code == 400
    assert server.get("/jaeger/api/traces", tags="{not json").status_code == 400
    assert server.get("/jaeger/api/operations").status_code == 400
    assert get(jaeger, "dependencies", endTs=1, lookback=1) == []
