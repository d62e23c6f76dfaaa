"""What API keys cost a read (issue 20): two servers side by side, one open and one with
``--auth on``, the same trace in each, and ``GET /api/traces/{id}`` over one keep-alive
connection to each, in alternating blocks so that the VM's drift falls on both alike.

    .venv/bin/python bench/bench_auth.py --blocks 10 --per-block 100
"""

from __future__ import annotations

import argparse
import http.client
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ingest.otlp_build import make_request, make_span, span_id, trace_id

_READY = re.compile(r"http=127\.0\.0\.1:(\d+)")
_KEY = re.compile(r"tpk_[0-9a-f]{12}_[0-9a-f]{64}")


def start(db: Path, *flags: str) -> tuple[subprocess.Popen[str], int, dict[str, str]]:
    """A server on free ports; its process, HTTP port and the headers its requests need."""
    args = ["serve", "--http-port", "0", "--grpc-port", "0", "--db", str(db), *flags]
    process = subprocess.Popen(
        [sys.executable, "-m", "tracepond.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        ready = _READY.search(line)
        if ready:
            keys = [m.group(0) for text in seen if (m := _KEY.search(text))]
            headers = {"Authorization": f"Bearer {keys[0]}"} if keys else {}
            return process, int(ready.group(1)), headers
    raise RuntimeError("the server did not start:\n" + "".join(seen))


def timed_gets(
    conn: http.client.HTTPConnection, path: str, headers: dict[str, str], n: int
) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--per-block", type=int, default=100)
    parser.add_argument("--spans", type=int, default=50, help="spans of the fetched trace")
    args = parser.parse_args()
    trace = trace_id()
    spans = [make_span(trace, span_id(), f"step-{i}") for i in range(args.spans)]
    body = make_request(spans).SerializeToString()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "off": start(Path(tmp) / "open.duckdb"),
            "on": start(Path(tmp) / "keyed.duckdb", "--auth", "on"),
        }
        conns = {}
        try:
            for mode, (_, port, headers) in servers.items():
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                post = {"Content-Type": "application/x-protobuf", **headers}
                conn.request("POST", "/v1/traces", body, post)
                response = conn.getresponse()
                response.read()
                assert response.status == 200, response.status
                conns[mode] = (conn, headers)
            time.sleep(1.0)  # past the commit
            times: dict[str, list[float]] = {"off": [], "on": []}
            for block in range(args.blocks):
                for mode in ("off", "on") if block % 2 == 0 else ("on", "off"):
                    conn, headers = conns[mode]
                    path = f"/api/traces/{trace.hex()}"
                    times[mode] += timed_gets(conn, path, headers, args.per_block)
        finally:
            for process, _, _ in servers.values():
                process.terminate()
    for mode, values in times.items():
        values.sort()
        p95 = values[int(len(values) * 0.95)]
        print(
            f"auth {mode:3}: p50 {statistics.median(values) * 1e3:.3f} ms, p95 {p95 * 1e3:.3f} ms"
        )
    ratio = statistics.median(times["on"]) / statistics.median(times["off"])
    print(f"p50 on / off: {ratio:.3f}")


if __name__ == "__main__":
    main()
