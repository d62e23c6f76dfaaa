"""The README's run command: `tracepond serve --demo` serves and fills itself with traces."""

from __future__ import annotations

import time
from typing import Any

DEMO_QUESTIONS = 4


def test_serve_demo_fills_the_server_with_demo_traces(start_tracepond: Any) -> None:
    server = start_tracepond("--demo")
    deadline = time.monotonic() + 90
    traces: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        traces = server.get_json("/api/traces", limit=50)["traces"]
        if len(traces) >= DEMO_QUESTIONS:
            break
        time.sleep(0.5)
    assert len(traces) == DEMO_QUESTIONS, "the demo did not fill the server"
    assert {t["service_name"] for t in traces} == {"tracepond-demo"}
    assert sum(t["error_count"] > 0 for t in traces) == 1  # the question whose tool fails
    assert all(t["llm_count"] >= 1 for t in traces)
    tree = server.trace(traces[0]["trace_id"])
    assert tree is not None and tree["roots"]
