"""Run ``tracepond serve`` as a subprocess and watch it: start-up times, RSS and CPU from /proc."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_READY = re.compile(r"tracepond ready grpc=(\S+):(\d+) http=(\S+):(\d+)")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the server and its decode workers)."""
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
        except OSError:
            pass
    return out


def tree_status_kib(pid: int, key: str) -> int:
    """A /proc status field summed over the process tree. For VmHWM the sum is an upper bound
    of the tree's peak: each process's own peak, whenever it was."""
    return sum(_proc_kib(p, "status", key) for p in process_tree(pid))


def tree_pss_kib(pid: int) -> int:
    """Proportional set size of the process tree: each resident page counted once in all,
    shared ones split among the processes that map them. Summed VmRSS counts a page once per
    process, so the libraries the server and its decode workers all load (libarrow alone is
    ~27 MiB resident in each) are counted three times there."""
    return sum(_proc_kib(p, "smaps_rollup", "Pss") for p in process_tree(pid))


def _proc_kib(pid: int, file: str, key: str) -> int:
    """The kB value of the ``key:`` line of /proc/<pid>/<file>; 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/{file}") as lines:
            for line in lines:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of process ``pid`` (all its threads)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the ")" the fields start at index 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds all processes of the machine spent busy (not idle, not iowait), all cores."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _CLOCK_TICKS


@dataclass
class RssSampler:
    """Samples the tree's summed VmRSS every ``interval`` seconds and its PSS every
    ``pss_every`` samples (reading smaps_rollup walks page tables: ~4 ms a process, too much
    CPU to take from the benchmark 20 times a second); ``peak_since_mark`` is the phase peak."""

    pid: int
    interval: float = 0.05
    pss_every: int = 10
    samples: list[tuple[float, int]] = field(default_factory=list)
    _mark_peak: int = 0
    _mark_peak_pss: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, name="rss-sampler", daemon=True).start()

    def _run(self) -> None:
        count = 0
        while not self._stop.wait(self.interval):
            rss = tree_status_kib(self.pid, "VmRSS")
            if rss:
                self.samples.append((time.monotonic(), rss))
                self._mark_peak = max(self._mark_peak, rss)
            count += 1
            if count % self.pss_every == 0:
                self._mark_peak_pss = max(self._mark_peak_pss, tree_pss_kib(self.pid))

    def mark(self) -> None:
        self._mark_peak = tree_status_kib(self.pid, "VmRSS")
        self._mark_peak_pss = tree_pss_kib(self.pid)

    def peak_since_mark_mib(self) -> float:
        return self._mark_peak / 1024

    def peak_pss_since_mark_mib(self) -> float:
        return self._mark_peak_pss / 1024

    def rss_mib(self) -> float:
        return tree_status_kib(self.pid, "VmRSS") / 1024

    def hwm_mib(self) -> float:
        """The kernel's own peak RSS (VmHWM) since start, summed over server and workers."""
        return tree_status_kib(self.pid, "VmHWM") / 1024

    def stop(self) -> None:
        self._stop.set()


class ServerProcess:
    def __init__(
        self, db: Path, extra_args: list[str] | None = None, store_url: str | None = None
    ) -> None:
        self.db = db
        # ``store_url``: the server's ``--store`` instead of ``--db db`` (db then names the place
        # whose size the benchmark reports: a DuckDB file or a ClickHouse data directory).
        where = ["--store", store_url] if store_url else ["--db", str(db)]
        self.args = [
            sys.executable,
            "-m",
            "tracepond.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--grpc-port",
            "0",
            "--http-port",
            "0",
            *where,
            *(extra_args or []),
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.spawned_at = 0.0
        self.ready_seconds = 0.0
        self.http_port = 0
        self.grpc_port = 0
        self.log: list[str] = []

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> None:
        self.spawned_at = time.monotonic()
        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdout is not None
        deadline = self.spawned_at + timeout
        for line in self.proc.stdout:
            self.log.append(line.rstrip())
            match = _READY.search(line)
            if match:
                self.ready_seconds = time.monotonic() - self.spawned_at
                self.grpc_port = int(match.group(2))
                self.http_port = int(match.group(4))
                break
            if time.monotonic() > deadline:
                break
        if not self.http_port:
            self.stop()
            raise RuntimeError("server did not print its ready line:\n" + "\n".join(self.log))
        # Keep draining the pipe so a chatty server never blocks on a full pipe.
        threading.Thread(target=self._drain, name="server-log", daemon=True).start()

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line.rstrip())

    def cpu_seconds(self) -> float:
        """CPU seconds of the server and its decode workers."""
        return sum(cpu_seconds(pid) for pid in process_tree(self.pid))

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM (the server commits what is queued and checkpoints), then wait."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
