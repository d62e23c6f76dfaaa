"""Optional py-spy profiling of the server during a phase, summarized as top self/inclusive time."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy_path() -> str | None:
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


class Profiler:
    """``py-spy record --format raw`` attached to ``pid`` until ``stop``."""

    def __init__(self, pid: int, output: Path, native: bool, rate: int = 100) -> None:
        exe = py_spy_path()
        if exe is None:
            raise RuntimeError("py-spy not found: .venv/bin/pip install py-spy")
        self.output = output
        args = [exe, "record", "--pid", str(pid), "--format", "raw", "--rate", str(rate)]
        args += ["--output", str(output), "--nonblocking"]
        if native:
            args.append("--native")
        self._proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )

    def stop(self) -> str:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
        try:
            _, err = self._proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            _, err = self._proc.communicate()
        return err or ""


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match.group('func')} ({path})"


def summarize(raw: Path, top: int = 25) -> dict[str, list[tuple[str, int, float]]]:
    """Top functions by self samples and by inclusive samples (percent of all samples)."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += count
        self_time[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return {"self": [], "inclusive": []}

    def rows(counter: Counter[str]) -> list[tuple[str, int, float]]:
        return [(name, n, round(100 * n / total, 1)) for name, n in counter.most_common(top)]

    return {"self": rows(self_time), "inclusive": rows(inclusive), "samples": [("all", total, 100)]}
