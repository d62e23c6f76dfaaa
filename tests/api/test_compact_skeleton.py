"""GET /api/traces/{id}/skeleton/compact against a real server: the skeleton's nodes as columns,
the same nodes as /api/traces/{id}/skeleton once decoded (orphans, cycles, models, subtree
totals, paging, max_depth), in far fewer bytes."""

from __future__ import annotations

from typing import Any

from ingest.otlp_build import BASE_NS, make_request, make_span, span_id, trace_id

# The skeleton's fields the compact form carries (it leaves out parent ids and the split of
# subtree tokens into input and output).
SUBTREE = ("span_count", "error_count", "total_tokens", "cost")


def send(server: Any, spans: list[Any], service: str = "compact-svc") -> None:
    response = server.post_otlp(make_request(spans, service=service).SerializeToString())
    assert response.status_code == 200, response.text


def decode(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The compact page back as skeleton nodes (what the web view's model.js does)."""
    c, strings, origin = page["columns"], page["strings"], page["origin_ns"]
    assert len({len(v) for v in c.values()}) == 1, "every column has one entry per node"

    def text(code: int | None) -> str | None:
        return None if code is None else strings[code]

    out = []
    for i in range(len(c["span_id"])):
        start = origin + c["start"][i]
        out.append(
            {
                "span_id": c["span_id"][i],
                "depth": c["depth"][i],
                "name": c["name"][i],
                "kind": text(c["kind"][i]),
                "service_name": text(c["service"][i]),
                "start_time_unix_nano": start,
                "end_time_unix_nano": start + c["duration"][i],
                "duration_ns": c["duration"][i],
                "status": text(c["status"][i]),
                "category": text(c["category"][i]),
                "model": text(c["model"][i]),
                "orphan": bool(c["flags"][i] & 1),
                "cycle": bool(c["flags"][i] & 2),
                "child_count": c["child_count"][i],
                "subtree": {k: c[k][i] for k in SUBTREE},
            }
        )
    return out


def comparable(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k != "parent_span_id"}
    out["subtree"] = {k: node["subtree"][k] for k in SUBTREE}
    return out


def messy_trace(server: Any) -> tuple[str, dict[str, str]]:
    """A root with an agent, an LLM call under a framework span (both reporting usage) and a
    failing tool; an orphan; a two-span loop; all on two services."""
    trace = trace_id()
    ids = {k: span_id() for k in ("root", "agent", "framework", "llm", "tool", "orphan", "a", "b")}
    usage = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cost": 0.02,
    }
    spans = [
        make_span(trace, ids["root"], "root", start=BASE_NS, end=BASE_NS + 10_000),
        make_span(trace, ids["agent"], "agent", parent=ids["root"], start=BASE_NS + 1,
                  end=BASE_NS + 9_000, attributes={"tracepond.span.kind": "agent"}),
        make_span(trace, ids["framework"], "ChatOpenAI", parent=ids["agent"], start=BASE_NS + 2,
                  end=BASE_NS + 5_000, attributes=usage),
        make_span(trace, ids["llm"], "openai.chat", parent=ids["framework"], start=BASE_NS + 3,
                  end=BASE_NS + 4_000, attributes=usage),
        make_span(trace, ids["tool"], "search", parent=ids["agent"], start=BASE_NS + 6_000,
                  end=BASE_NS + 8_000, attributes={"tracepond.span.kind": "tool"},
                  status_code=2),
        make_span(trace, ids["orphan"], "lost", parent=span_id(), start=BASE_NS + 500),
        make_span(trace, ids["a"], "A", parent=ids["b"], start=BASE_NS + 600),
        make_span(trace, ids["b"], "B", parent=ids["a"], start=BASE_NS + 700),
    ]  # fmt: skip
    send(server, spans[:4])
    send(server, spans[4:], service="other-svc")
    return trace.hex(), {k: v.hex() for k, v in ids.items()}


def test_compact_skeleton_decodes_to_the_skeleton(tracepond_server: Any) -> None:
    trace, ids = messy_trace(tracepond_server)
    path = f"/api/traces/{trace}/skeleton"
    skeleton = tracepond_server.get_json(path)
    compact = tracepond_server.get_json(f"{path}/compact")
    assert set(compact) == {
        "trace_id",
        "summary",
        "total",
        "next_cursor",
        "origin_ns",
        "strings",
        "columns",
    }
    assert compact["summary"] == skeleton["summary"]
    assert (compact["total"], compact["next_cursor"]) == (8, None)
    assert compact["origin_ns"] == skeleton["summary"]["start_time_unix_nano"]
    nodes = decode(compact)
    assert nodes == [comparable(n) for n in skeleton["nodes"]]
    by_name = {n["name"]: n for n in nodes}
    assert by_name["lost"]["orphan"] and not by_name["lost"]["cycle"]
    assert by_name["A"]["cycle"]
    assert by_name["openai.chat"]["model"] == "gpt-4o"
    assert by_name["root"]["subtree"] == {
        "span_count": 5,
        "error_count": 1,
        "total_tokens": 42,  # the framework span and the provider span: one call
        "cost": 0.02,
    }
    # Repeated strings are sent once.
    assert sorted(compact["strings"]).count("compact-svc") == 1
    # Parents follow from depth in depth-first order.
    parents: dict[str, str | None] = {}
    path_ids: list[str] = []
    for n in nodes:
        del path_ids[n["depth"] :]
        parents[n["span_id"]] = path_ids[-1] if path_ids else None
        path_ids.append(n["span_id"])
    assert parents[ids["llm"]] == ids["framework"] and parents[ids["tool"]] == ids["agent"]


def test_compact_skeleton_pages_and_depth(tracepond_server: Any) -> None:
    trace, _ = messy_trace(tracepond_server)
    path = f"/api/traces/{trace}/skeleton/compact"
    whole = decode(tracepond_server.get_json(path))
    pages, cursor = [], None
    while True:
        page = tracepond_server.get_json(path, limit=3, **({"cursor": cursor} if cursor else {}))
        assert page["total"] == 8
        pages.append(decode(page))
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [n for p in pages for n in p] == whole
    top = decode(tracepond_server.get_json(path, max_depth=0))
    assert [n["name"] for n in top] == ["root", "lost", "A"]
    assert tracepond_server.get(path, cursor="x").status_code == 400
    assert tracepond_server.get(path, limit=0).status_code == 400
    missing = tracepond_server.get(f"/api/traces/{'e' * 32}/skeleton/compact")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_compact_skeleton_is_a_fraction_of_the_skeleton(tracepond_server: Any) -> None:
    trace, root = trace_id(), span_id()
    spans = [make_span(trace, root, "root", start=BASE_NS, end=BASE_NS + 10**9)]
    for i in range(1999):
        spans.append(
            make_span(trace, span_id(), f"step {i}", parent=root, start=BASE_NS + i * 1000)
        )
    send(tracepond_server, spans)
    skeleton = tracepond_server.get(f"/api/traces/{trace.hex()}/skeleton")
    compact = tracepond_server.get(f"/api/traces/{trace.hex()}/skeleton/compact")
    assert compact.status_code == skeleton.status_code == 200
    assert len(compact.content) * 4 < len(skeleton.content), (
        len(compact.content),
        len(skeleton.content),
    )
