"""GET /api/traces: every filter, sorting, counting, on a seeded real server."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.otlp_build import BASE_NS

from .conftest import ids
from .seed import S

MINE = {"since": str(BASE_NS), "until": str(BASE_NS + 200 * S)}


def search(server: Any, **params: Any) -> dict[str, Any]:
    return server.get_json("/api/traces", **{**MINE, **params})


def names(seed: Any, page: dict[str, Any]) -> set[str]:
    by_id = {v: k for k, v in seed.ids.items()}
    return {by_id[t] for t in ids(page) if t in by_id}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"rag_empty", "rag_ok", "tool_err", "deep"}),
        ({"service": "rag-svc"}, {"rag_empty", "rag_ok"}),
        ({"status": "error"}, {"tool_err"}),
        ({"status": "ok"}, {"rag_empty", "rag_ok", "deep"}),
        ({"name": "agent.loop"}, {"deep"}),
        ({"category": "retriever"}, {"rag_empty", "rag_ok"}),
        ({"category": "tool"}, {"tool_err"}),
        ({"category": "chain"}, {"deep"}),
        ({"model": "gpt-4o"}, {"rag_empty", "tool_err"}),
        ({"min_duration": "5s"}, {"rag_empty", "deep"}),
        ({"max_duration": "2500ms"}, {"rag_ok"}),
        ({"min_tokens": 150}, {"tool_err"}),
        ({"max_tokens": 30}, {"deep"}),
        ({"min_cost": 0.1}, {"tool_err"}),
        ({"session_id": "sess-1"}, {"rag_empty", "rag_ok"}),
        ({"user_id": "u2"}, {"tool_err"}),
        ({"tag": "beta"}, {"rag_empty"}),
        ({"tag": "bet"}, set()),
        ({"attr": "app.tenant=acme"}, {"rag_ok"}),
        ({"attr": "app.tenant!=acme"}, set()),
        ({"attr": "http.status_code>=400"}, {"tool_err"}),
        ({"attr": "http.status_code<400"}, {"rag_ok"}),
        ({"attr": "http.status_code"}, {"rag_ok", "tool_err"}),
        ({"attr": "gen_ai.tool.call.arguments~Oslo"}, {"tool_err"}),
        ({"attr": ["http.status_code", "app.tenant=acme"]}, {"rag_ok"}),
        ({"max_documents": 0}, {"rag_empty"}),
        ({"min_documents": 2}, {"rag_ok"}),
        ({"until": str(BASE_NS + 90 * S)}, {"rag_empty", "rag_ok"}),
        ({"since": str(BASE_NS + 90 * S)}, {"tool_err", "deep"}),
        ({"service": "rag-svc", "min_duration": "5s"}, {"rag_empty"}),
    ],
)
def test_filters(server: Any, seed: Any, params: dict[str, Any], expected: set[str]) -> None:
    page = search(server, **params)
    assert names(seed, page) == expected
    assert page["count"] == len(page["traces"]) and page["count_capped"] is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("atlantis", {"rag_empty"}),  # in messages, any case
        ("paris is in france", {"rag_ok"}),  # document content
        ("weather in oslo", {"tool_err"}),  # tool arguments
        ("agent.loop", {"deep"}),  # span name
        ('100% "exactly"', {"rag_empty"}),  # LIKE wildcards and JSON-escaped quotes
        ("c:\\TMP\\wx", {"tool_err"}),  # backslashes are literal, not escapes
        ("weather_in oslo", set()),  # "_" is not a wildcard
        ("_%", set()),
        ("no such words anywhere", set()),
    ],
)
def test_full_text(server: Any, seed: Any, text: str, expected: set[str]) -> None:
    assert names(seed, search(server, text=text)) == expected


@pytest.mark.parametrize(
    ("sort", "order", "expected"),
    [
        ("start_time", "desc", ["deep", "tool_err", "rag_ok", "rag_empty"]),
        ("start_time", "asc", ["rag_empty", "rag_ok", "tool_err", "deep"]),
        ("duration", "desc", ["rag_empty", "deep", "tool_err", "rag_ok"]),
        ("tokens", "asc", ["deep", "rag_ok", "rag_empty", "tool_err"]),
        ("cost", "desc", ["tool_err"]),  # the others have no cost (sorted as 0, ties by id)
    ],
)
def test_sorting(server: Any, seed: Any, sort: str, order: str, expected: list[str]) -> None:
    page = search(server, sort=sort, order=order)
    by_id = {v: k for k, v in seed.ids.items()}
    got = [by_id[t["trace_id"]] for t in page["traces"] if t["trace_id"] in by_id]
    assert got[: len(expected)] == expected


def test_pages_cover_every_match_once(server: Any, seed: Any) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 1, "sort": "duration", "order": "asc"}
    while True:
        page = search(server, **params)
        assert page["count"] == 4
        seen += [t["trace_id"] for t in page["traces"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(seen) == sorted(seed.ids.values())


def test_no_parameters_is_newest_first_with_summary_fields(server: Any) -> None:
    page = server.get_json("/api/traces")
    starts = [t["start_time_unix_nano"] for t in page["traces"]]
    assert starts == sorted(starts, reverse=True)
    assert {"traces", "next_cursor", "count", "count_capped"} <= set(page)
    assert {"trace_id", "root_name", "span_count", "error_count", "total_tokens"} <= set(
        page["traces"][0]
    )


def test_count_is_capped(server: Any) -> None:
    # Counts are capped at 10,000; this store is small, so the count is exact and not capped.
    page = server.get_json("/api/traces", limit=1)
    assert page["count"] > 1 and page["count_capped"] is False and page["next_cursor"]


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"min_duration": "fast"},
        {"since": "yesterday"},
        {"attr": "=x"},
        {"attr": "n>abc"},
        {"sort": "name"},
        {"limit": 0},
        {"min_tokens": -1},
    ],
)
def test_bad_parameters_are_400(server: Any, params: dict[str, Any]) -> None:
    response = server.get("/api/traces", **params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["status"] == 400


def test_cursor_of_another_sort_is_400(server: Any) -> None:
    page = search(server, limit=1)
    response = server.get("/api/traces", **MINE, limit=1, sort="cost", cursor=page["next_cursor"])
    assert response.status_code == 400
