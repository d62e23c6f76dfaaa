"""Stats reads in-process on a filled DuckDB file: this tree's store/_stats.py against a
baseline revision's, interleaved, and the memory each needs.

    .venv/bin/python bench/bench_stats.py --db /tmp/b10m/duckdb/bench.duckdb --baseline main

The file is opened read-only (it can be one another process uses). The request is the web
view's, `/api/stats?since=24h&bucket=5m&group_by=model`, over the 24 h ending at the file's
newest span, at span level (`stats`) and at trace level (`trace_stats`). For each:

* time: --runs runs of each code on one connection, alternating which goes first, under a
  --memory-limit large enough for the baseline's exact quantiles;
* the quantiles' difference: per row and quantile, this code's value against the
  baseline's (exact) one, relative;
* memory, each measure in a fresh process: the smallest DuckDB memory_limit the read answers
  under (a binary search to --step MB), and the process's peak RSS (VmHWM) during the read
  under --hwm-limit, over its peak once the connection is open (DuckDB also caches the
  scanned blocks up to its limit, which a larger limit would count).

Results are printed and written to bench/results/stats-<time>.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from tracepond.model.filters import Filters
from tracepond.model.records import StatsRequest
from tracepond.store import _stats

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DAY_NS = 86_400 * 10**9
BUCKET_NS = 300 * 10**9
LEVELS = ("stats", "trace_stats")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", type=Path, required=True, help="a filled DuckDB file (read-only)")
    p.add_argument("--baseline", default="main", help="git revision of the code compared")
    p.add_argument("--runs", type=int, default=5, help="timed runs of each code and level")
    p.add_argument("--memory-limit", default="8GB", help="DuckDB memory_limit of the timed runs")
    p.add_argument("--threads", type=int, default=2, help="DuckDB threads (the store's default)")
    p.add_argument("--step", type=int, default=4, help="MB precision of the memory search")
    p.add_argument("--hwm-limit", default="256MB", help="DuckDB memory_limit of the VmHWM read")
    p.add_argument("--out", type=Path, help="JSON results path")
    p.add_argument("--child", nargs=4, metavar=("CODE", "LEVEL", "LIMIT", "BASELINE_FILE"))
    return p.parse_args(argv)


def _baseline_module(revision: str, workdir: Path) -> Path:
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:src/tracepond/store/_stats.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = workdir / "baseline_stats.py"
    path.write_text(source)
    return path


def _load(code: str, baseline_file: str) -> ModuleType:
    if code == "this":
        return _stats
    spec = importlib.util.spec_from_file_location("baseline_stats", baseline_file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _connect(db: Path, limit: str, threads: int) -> Any:
    config = {"memory_limit": limit, "threads": threads}
    return duckdb.connect(str(db), read_only=True, config=config)


def _request(con: Any) -> StatsRequest:
    newest = con.execute("SELECT max(start_ns) FROM spans").fetchall()[0][0]
    until = int(newest) + 1
    return StatsRequest(Filters(), until - DAY_NS, until, BUCKET_NS, "model")


def _hwm_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _child(args: argparse.Namespace) -> None:
    """One read in this fresh process: answered or not, its time, and the peak RSS it added."""
    code, level, limit, baseline_file = args.child
    module = _load(code, baseline_file)
    con = _connect(args.db, limit, args.threads)
    request = _request(con)
    before = _hwm_kib()
    started = time.perf_counter()
    try:
        rows = getattr(module, level)(con.cursor(), request)
        outcome = {"ok": True, "rows": len(rows)}
    except duckdb.OutOfMemoryException:
        outcome = {"ok": False}
    outcome["seconds"] = time.perf_counter() - started
    outcome["hwm_added_mib"] = (_hwm_kib() - before) / 1024
    outcome["hwm_mib"] = _hwm_kib() / 1024
    print(json.dumps(outcome))


def _run_child(args: argparse.Namespace, code: str, level: str, limit: str, baseline: Path) -> Any:
    command = [sys.executable, __file__, "--db", str(args.db), "--threads", str(args.threads)]
    command += ["--child", code, level, limit, str(baseline)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _smallest_limit_mb(args: argparse.Namespace, code: str, level: str, baseline: Path) -> int:
    """The smallest memory_limit (to --step MB) the read answers under; 4096 means "more"."""
    low, high = 0, 4096
    while high - low > args.step:
        middle = (low + high) // 2
        if _run_child(args, code, level, f"{middle}MB", baseline)["ok"]:
            high = middle
        else:
            low = middle
    return high


def _timed(
    args: argparse.Namespace, modules: dict[str, ModuleType]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The runs' times, and per level the rows' quantiles of both codes."""
    con = _connect(args.db, args.memory_limit, args.threads)
    request = _request(con)
    cursor = con.cursor()
    times: dict[str, dict[str, list[float]]] = {level: {c: [] for c in modules} for level in LEVELS}
    rows: dict[str, dict[str, Any]] = {level: {} for level in LEVELS}
    for run in range(args.runs):
        order = list(modules) if run % 2 == 0 else list(reversed(modules))
        for level in LEVELS:
            for code in order:
                started = time.perf_counter()
                rows[level][code] = getattr(modules[code], level)(cursor, request)
                times[level][code].append(time.perf_counter() - started)
    con.close()
    return times, rows


def _differences(rows: dict[str, Any]) -> list[dict[str, Any]]:
    """Per row: its group, count, and each quantile's (this - baseline) / baseline."""
    out = []
    for exact, this in zip(rows["baseline"], rows["this"], strict=True):
        assert (exact.bucket_start_ns, exact.group) == (this.bucket_start_ns, this.group)
        differences = {
            name: round((getattr(this, name) - getattr(exact, name)) / getattr(exact, name), 5)
            for name in ("p50_ns", "p95_ns", "p99_ns")
        }
        out.append({"group": this.group, "count": this.count, **differences})
    return out


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        baseline = _baseline_module(args.baseline, Path(tmp))
        modules = {"baseline": _load("baseline", str(baseline)), "this": _stats}
        times, rows = _timed(args, modules)
        memory: dict[str, dict[str, Any]] = {}
        for level in LEVELS:
            for code in modules:
                peak = _run_child(args, code, level, args.hwm_limit, baseline)
                memory[f"{level} {code}"] = {
                    "smallest_limit_mb": _smallest_limit_mb(args, code, level, baseline),
                    f"hwm_added_mib_at_{args.hwm_limit}": (
                        round(peak["hwm_added_mib"], 1) if peak["ok"] else "refused"
                    ),
                }
    differences = {level: _differences(rows[level]) for level in LEVELS}
    result = {
        "db": str(args.db),
        "baseline": args.baseline,
        "times_s": times,
        "memory": memory,
        "quantile_differences": differences,
    }
    for level in LEVELS:
        medians = {code: statistics.median(times[level][code]) for code in modules}
        ratio = medians["this"] / medians["baseline"]
        print(
            f"{level}: median baseline {medians['baseline']:.3f} s, this {medians['this']:.3f} s"
            f" (this/baseline {ratio:.2f}); runs {times[level]}"
        )
    for name, figures in memory.items():
        print(f"{name}: {figures}")
    for level in LEVELS:
        for row in differences[level]:
            print(f"{level} quantiles, (this - baseline) / baseline: {row}")
    RESULTS_DIR.mkdir(exist_ok=True)
    out = args.out or RESULTS_DIR / f"stats-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
