"""Pins the one JSON error shape of the API, ``{"error": {"status", "code", "message"}}``, and
the health probes, against a real server."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ingest.otlp_build import make_request, make_span, span_id, trace_id

UNKNOWN_TRACE = "f" * 32


def assert_error(response: Any, status: int, code: str, *in_message: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message"}
    assert error["status"] == status
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    for text in in_message:
        assert text in error["message"], error["message"]


@pytest.fixture(scope="module")
def stored(tracepond_server: Any) -> tuple[str, str]:
    trace, root = trace_id(), span_id()
    request = make_request([make_span(trace, root, "known")])
    assert tracepond_server.post_otlp(request.SerializeToString()).status_code == 200
    return trace.hex(), root.hex()


def test_unknown_trace_404(tracepond_server: Any) -> None:
    response = tracepond_server.get(f"/api/traces/{UNKNOWN_TRACE}")
    assert_error(response, 404, "not_found", UNKNOWN_TRACE)


def test_unknown_span_404(tracepond_server: Any, stored: tuple[str, str]) -> None:
    trace, _ = stored
    response = tracepond_server.get(f"/api/traces/{trace}/spans/{'e' * 16}")
    assert_error(response, 404, "not_found", "e" * 16)
    response = tracepond_server.get(f"/api/traces/{UNKNOWN_TRACE}/spans/{'e' * 16}")
    assert_error(response, 404, "not_found")


def test_known_span_of_another_trace_404(tracepond_server: Any, stored: tuple[str, str]) -> None:
    _, root = stored
    response = tracepond_server.get(f"/api/traces/{UNKNOWN_TRACE}/spans/{root}")
    assert_error(response, 404, "not_found")


def test_ids_are_case_insensitive(tracepond_server: Any, stored: tuple[str, str]) -> None:
    trace, root = stored
    detail = tracepond_server.get_json(f"/api/traces/{trace.upper()}/spans/{root.upper()}")
    assert (detail["trace_id"], detail["span_id"]) == (trace, root)


@pytest.mark.parametrize(
    "trace", ["abc", "z" * 32, "f" * 31, "f" * 33, "f" * 64, "0x" + "f" * 30, "%20" * 16]
)
def test_invalid_trace_id_400(tracepond_server: Any, trace: str) -> None:
    assert_error(tracepond_server.get(f"/api/traces/{trace}"), 400, "invalid_request", "trace_id")


@pytest.mark.parametrize("span", ["abc", "g" * 16, "f" * 15, "f" * 32])
def test_invalid_span_id_400(tracepond_server: Any, stored: tuple[str, str], span: str) -> None:
    trace, _ = stored
    response = tracepond_server.get(f"/api/traces/{trace}/spans/{span}")
    assert_error(response, 400, "invalid_request", "span_id")


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "ten", "1.5", ""])
def test_invalid_limit_400(tracepond_server: Any, limit: str) -> None:
    response = tracepond_server.client.get(f"/api/traces?limit={limit}")
    assert_error(response, 400, "invalid_request", "limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        base64.urlsafe_b64encode(b"no-colon").decode(),
        base64.urlsafe_b64encode(b"12:zz").decode(),
        base64.urlsafe_b64encode(b"x:" + b"ab" * 16).decode(),
        base64.urlsafe_b64encode(b"1:2:3").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe:00").decode(),
    ],
)
def test_invalid_cursor_400(tracepond_server: Any, cursor: str) -> None:
    response = tracepond_server.get("/api/traces", cursor=cursor)
    assert_error(response, 400, "invalid_request", "cursor")


@pytest.mark.parametrize("path", ["/api/nope", "/api/traces/x/y/z", "/nothing-here"])
def test_unknown_route_404(tracepond_server: Any, path: str) -> None:
    assert_error(tracepond_server.get(path), 404, "not_found")


def test_wrong_method_405(tracepond_server: Any) -> None:
    response = tracepond_server.client.put(f"/api/traces/{UNKNOWN_TRACE}")
    assert_error(response, 405, "method_not_allowed")


def test_healthz_and_readyz(tracepond_server: Any) -> None:
    assert tracepond_server.get_json("/healthz") == {"status": "ok"}
    assert tracepond_server.get_json("/readyz") == {"status": "ready"}


def test_list_defaults_and_limit(tracepond_server: Any, stored: tuple[str, str]) -> None:
    other = make_request([make_span(trace_id(), span_id(), "another")])
    assert tracepond_server.post_otlp(other.SerializeToString()).status_code == 200
    page = tracepond_server.get_json("/api/traces")
    assert set(page) == {"traces", "next_cursor", "count", "count_capped"}
    assert len(page["traces"]) <= 50
    one = tracepond_server.get_json("/api/traces", limit=1)
    assert len(one["traces"]) == 1
    assert one["traces"][0] == page["traces"][0]
    assert one["next_cursor"]
    second = tracepond_server.get_json("/api/traces", limit=1, cursor=one["next_cursor"])
    assert second["traces"][0] == page["traces"][1]
    assert tracepond_server.get_json("/api/traces", limit=1000)["traces"][:2] == page["traces"][:2]
