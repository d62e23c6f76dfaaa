"""Retention, the size budget and deletion, against a real server process (issue 20).

Spans carry real timestamps (now), since a trace expires by its end time."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from conftest import TracepondProcess, run_cli
from ingest.otlp_build import make_request, make_span, span_id, trace_id
from operate.promtext import scrape, total

WAIT = 60.0


def send_trace(
    server: TracepondProcess,
    *,
    ended_ago_s: float = 0.0,
    spans: int = 3,
    attributes: dict[str, Any] | None = None,
    pad: int = 0,
) -> str:
    """One trace of ``spans`` spans that ended ``ended_ago_s`` seconds ago; its hex id."""
    trace = trace_id()
    end = time.time_ns() - int(ended_ago_s * 1e9)
    root = span_id()
    built = [make_span(trace, root, "agent", start=end - 5_000_000, end=end, attributes=attributes)]
    for i in range(spans - 1):
        attrs = {"input.value": "x" * pad} if pad else {}
        built.append(
            make_span(
                trace,
                span_id(),
                f"step-{i}",
                parent=root,
                start=end - 4_000_000,
                end=end - 1_000_000,
                attributes=attrs,
            )
        )
    response = server.post_otlp(make_request(built).SerializeToString())
    assert response.status_code == 200, response.text
    return trace.hex()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def stored(server: TracepondProcess) -> set[str]:
    return {t["trace_id"] for t in server.all_traces()}


@pytest.fixture
def keep_sending(start_tracepond: Any) -> Iterator[Callable[[TracepondProcess], list[str]]]:
    """Sends a fresh trace every 50 ms from a thread until the test ends (ingest continuing
    while the purge runs); the list of their ids fills as they are acknowledged."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(server: TracepondProcess) -> list[str]:
        sent: list[str] = []

        def loop() -> None:
            import httpx

            client = httpx.Client(base_url=server.url, timeout=30)
            while not stop.wait(0.05):
                trace = trace_id()
                now = time.time_ns()
                body = make_request([make_span(trace, span_id(), "live", start=now, end=now)])
                try:
                    response = client.post(
                        "/v1/traces",
                        content=body.SerializeToString(),
                        headers={"Content-Type": "application/x-protobuf"},
                    )
                except httpx.HTTPError:
                    return  # the server was stopped
                if response.status_code == 200:
                    sent.append(trace.hex())

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        threads.append(thread)
        return sent

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)


def test_traces_past_the_retention_disappear_while_ingest_continues_and_stay_gone(
    start_tracepond: Any, keep_sending: Callable[[TracepondProcess], list[str]]
) -> None:
    server = start_tracepond("--retention", "3s")
    live = keep_sending(server)
    old = {send_trace(server, ended_ago_s=60) for _ in range(20)}
    recent = {send_trace(server, ended_ago_s=0) for _ in range(5)}
    wait_for(lambda: not old & stored(server), "the expired traces to go")
    # Still ingesting: traces keep arriving and are listed while the purge runs.
    count = len(live)
    wait_for(lambda: len(live) > count + 10, "ingest to go on")
    assert live[-1] in stored(server)
    # The recent traces expire in turn, once 3 s past their end.
    wait_for(lambda: not recent & stored(server), "the recent traces to expire")
    purged = total(scrape(server), "tracepond_traces_purged_total", reason="retention")
    assert purged >= len(old) + len(recent)
    assert "purged" in server.stderr()
    # A restart without retention: nothing comes back.
    assert server.stop() == 0
    again = start_tracepond()
    assert not (old | recent) & stored(again)
    for trace in old:
        assert again.trace(trace) is None


def send_expired(server: TracepondProcess, traces: int, per_request: int = 500) -> list[str]:
    """``traces`` traces of 5 spans that ended an hour ago, ``per_request`` to a request."""
    ids: list[str] = []
    end = time.time_ns() - 3600 * 10**9
    for first in range(0, traces, per_request):
        spans = []
        for _ in range(min(per_request, traces - first)):
            trace = trace_id()
            ids.append(trace.hex())
            spans += [make_span(trace, span_id(), "old", start=end - 9, end=end) for _ in "12345"]
        response = server.post_otlp(make_request(spans).SerializeToString())
        assert response.status_code == 200, response.text
    return ids


def test_sigkill_during_a_purge_loses_no_unexpired_acknowledged_span(
    start_tracepond: Any, tmp_path: Path
) -> None:
    # Many expired traces (60 batches), so that the kill lands while batches are deleted.
    server = start_tracepond()
    expired = send_expired(server, 6000)
    assert server.stop() == 0
    server = start_tracepond("--retention", "10m", env={"TRACEPOND_PURGE_INTERVAL": "0.25"})
    kept: list[str] = []
    purged = 0.0
    # Acknowledged unexpired traces, sent while the purge runs; SIGKILL once it is under way.
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and purged == 0:
        kept.append(send_trace(server, spans=4))
        purged = total(scrape(server), "tracepond_traces_purged_total", reason="retention")
    kept.append(send_trace(server, spans=4))
    server.kill()
    assert 0 < purged < len(expired), "the kill did not land during the purge"
    con = duckdb.connect(str(tmp_path / "tracepond.duckdb"))
    try:
        ids = [bytes.fromhex(t) for t in kept]
        spans = con.execute(
            "SELECT count(*) FROM spans WHERE trace_id = ANY($ids)", {"ids": ids}
        ).fetchall()[0][0]
        traces = con.execute(
            "SELECT count(*), sum(span_count) FROM traces WHERE trace_id = ANY($ids)",
            {"ids": ids},
        ).fetchall()[0]
        left = con.execute(
            "SELECT count(*) FROM traces WHERE trace_id = ANY($ids)",
            {"ids": [bytes.fromhex(t) for t in expired]},
        ).fetchall()[0][0]
        # No summary without its spans, no spans without their summary.
        orphans = con.execute(
            "SELECT count(*) FROM spans s WHERE NOT EXISTS"
            " (SELECT 1 FROM traces t WHERE t.trace_id = s.trace_id)"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert spans == 4 * len(kept)
    assert traces == (len(kept), 4 * len(kept))
    assert 0 < left <= len(expired) - purged
    assert orphans == 0


def test_size_budget_deletes_the_oldest_traces(start_tracepond: Any) -> None:
    server = start_tracepond()
    oldest = [send_trace(server, ended_ago_s=400 - i, spans=4, pad=4000) for i in range(300)]
    newest = [send_trace(server, spans=4, pad=4000) for _ in range(30)]
    assert server.stop() == 0
    # Restarted with a budget of about half of what is stored.
    used = _used_bytes(server.db_path)
    budget = used // 2
    server = start_tracepond(
        "--max-db-size", f"{budget} bytes", env={"TRACEPOND_PURGE_INTERVAL": "0.5"}
    )
    wait_for(lambda: oldest[0] not in stored(server), "the budget's purge")
    wait_for(lambda: "over the budget" in server.stderr(), "the purge's log line")
    left = stored(server)
    assert set(newest) <= left, (len(left), len(set(newest) & left), len(set(oldest) & left))
    # The oldest went first: whatever is left of the old ones is the newer end of them.
    kept_old = [t for t in oldest if t in left]
    assert kept_old == oldest[len(oldest) - len(kept_old) :]
    assert 0 < len(kept_old) < len(oldest)
    purged = total(scrape(server), "tracepond_traces_purged_total", reason="size")
    assert purged == len(oldest) - len(kept_old)


def _used_bytes(path: Path) -> int:
    con = duckdb.connect(str(path))
    try:
        return int(
            con.execute(
                "SELECT used_blocks * block_size FROM pragma_database_size()"
                " WHERE database_name = current_database()"
            ).fetchall()[0][0]
        )
    finally:
        con.close()


# -- deletion ----------------------------------------------------------------------------------


def test_delete_by_user_session_query_and_id_leaves_nothing_in_any_read(
    start_tracepond: Any,
) -> None:
    server = start_tracepond()
    alice = [
        send_trace(server, attributes={"user.id": "alice", "session.id": f"a{i}"}) for i in range(3)
    ]
    session = [
        send_trace(server, attributes={"user.id": "bob", "session.id": "s-42"}) for _ in range(2)
    ]
    flagged = send_trace(server, attributes={"user.id": "carol", "tracepond.tags": ["gdpr"]})
    single = send_trace(server, attributes={"user.id": "dave"})
    others = [
        send_trace(server, attributes={"user.id": "erin", "session.id": "s-7"}) for _ in range(2)
    ]
    client = server.client

    refused = client.post("/api/traces/delete")
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_request"

    assert client.post("/api/traces/delete", params={"user_id": "alice"}).json() == {"deleted": 3}
    assert client.post("/api/traces/delete", params={"session_id": "s-42"}).json() == {"deleted": 2}
    by_query = client.post("/api/traces/delete", params={"q": '{ span.user.id = "carol" }'})
    assert by_query.status_code == 200, by_query.text
    assert by_query.json() == {"deleted": 1}
    assert client.delete(f"/api/traces/{single}").json() == {"deleted": 1}
    assert client.delete(f"/api/traces/{single}").status_code == 404
    again = client.post("/api/traces/delete", params={"user_id": "alice"})
    assert again.json() == {"deleted": 0}

    gone = [*alice, *session, flagged, single]
    _assert_absent_everywhere(server, gone, users=("alice", "carol", "dave"), session="s-42")
    assert set(others) <= stored(server)
    log = server.stderr()
    assert "deleted 3 traces: key=None" in log and "user_id='alice'" in log
    # Restarted: still gone.
    assert server.stop() == 0
    server = start_tracepond()
    _assert_absent_everywhere(server, gone, users=("alice", "carol", "dave"), session="s-42")
    assert set(others) <= stored(server)


def _assert_absent_everywhere(
    server: TracepondProcess, gone: list[str], users: tuple[str, ...], session: str
) -> None:
    for trace in gone:
        for path in ("", "/skeleton", "/skeleton/compact", "/otlp"):
            response = server.get(f"/api/traces/{trace}{path}")
            assert response.status_code == 404, (path, response.text)
        jaeger = server.get(f"/jaeger/api/traces/{trace}")
        assert jaeger.status_code == 404, jaeger.text
    assert not set(gone) & stored(server)
    spans = server.get_json("/api/spans", limit=1000)["spans"]
    assert not set(gone) & {s["trace_id"] for s in spans}
    for user in users:
        assert server.get_json("/api/traces", user_id=user)["count"] == 0
        assert server.get_json("/api/sessions", user_id=user)["sessions"] == []
        stats = server.get_json("/api/stats", user_id=user, level="trace")
        assert all(row.get("count", 0) == 0 for row in stats.get("rows", [])), stats
    assert server.get("/api/sessions/" + session).status_code == 404
    found = server.get_json("/jaeger/api/traces", service="test-service", limit=1000)["data"]
    assert not set(gone) & {t["traceID"] for t in found}
    _, traces_total = server_counts(server)
    assert total(scrape(server), "tracepond_stored_traces") == traces_total


def server_counts(server: TracepondProcess) -> tuple[int, int]:
    page = server.get_json("/api/traces", limit=1)
    spans = server.get_json("/api/spans", limit=1)
    return spans["count"], page["count"]


def test_cli_delete_through_the_server_and_on_the_file(
    start_tracepond: Any, tmp_path: Path
) -> None:
    server = start_tracepond()
    users = [send_trace(server, attributes={"user.id": "frank"}) for _ in range(2)]
    session = [send_trace(server, attributes={"session.id": "s-cli"}) for _ in range(2)]
    one = send_trace(server)
    kept = send_trace(server, attributes={"user.id": "grace"})
    assert _cli("delete", "--user", "frank", "--url", server.url).stdout == "deleted 2 traces\n"
    assert _cli("delete", "--trace", one, "--url", server.url).stdout == "deleted 1 traces\n"
    assert not {*users, one} & stored(server)
    assert server.stop() == 0
    out = _cli("delete", "--session", "s-cli", "--db", str(server.db_path))
    assert out.stdout == "deleted 2 traces\n"
    out = _cli("delete", "-q", '{ span.user.id = "grace" }', "--db", str(server.db_path))
    assert out.stdout == "deleted 1 traces\n"
    server = start_tracepond()
    assert not {*users, *session, one, kept} & stored(server)
    assert _cli("delete", "--url", server.url, check=False).returncode == 2


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = run_cli(*args)
    if check:
        result.check_returncode()
    return result
