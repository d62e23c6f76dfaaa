"""TRACEPOND_NORMALIZE_AT_INGEST=0: spans are stored raw, views built on read, reindex fills in."""

from __future__ import annotations

from typing import Any

from conventions.test_reindex import PRODUCER, reindex, totals
from conventions.test_through_server import EXPECTED_TOTALS, captured_requests


def llm_spans(server: Any) -> int:
    return int(server.get_json("/api/spans", category="llm")["count"])


def test_deferred_normalization_then_reindex(start_tracepond: Any) -> None:
    server = start_tracepond(env={"TRACEPOND_NORMALIZE_AT_INGEST": "0"})
    for body, media, headers in captured_requests(PRODUCER):
        assert server.post_otlp(body, media, **headers).status_code == 200
    # Nothing derived at ingest: no category column, no totals ...
    assert llm_spans(server) == 0
    assert totals(server)[0] == 0
    # ... but a trace still shows its views, built from the raw attributes on read.
    categories = set()
    for summary in server.all_traces():
        tree = server.trace(summary["trace_id"])
        assert tree is not None
        stack = list(tree["roots"])
        while stack:
            node = stack.pop()
            categories.add(node["view"]["category"])
            stack.extend(node["children"])
    assert "llm" in categories
    server.stop()

    done = reindex(server.db_path)
    assert done.returncode == 0, done.stderr
    server = start_tracepond()
    assert llm_spans(server) > 0
    assert totals(server) == EXPECTED_TOTALS[PRODUCER]
