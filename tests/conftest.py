"""Shared fixtures: a real ``tracepond serve`` subprocess on loopback with its own store.

``tracepond_server`` starts one for the whole session (tests that share it use fresh trace ids);
``start_tracepond`` is a factory for tests that need their own server (special limits, a restart,
SIGKILL). Every process started here is killed at the end of its test, whatever happened.

Servers run on DuckDB unless told otherwise: ``store="chdb"`` starts one on the ClickHouse store
over chdb (ClickHouse in-process, one engine directory per server process). A test that takes the
``store_kind`` fixture, directly or through its fixtures, runs once per store of ``STORES`` (ids
``duckdb`` and ``chdb``); marked ``duckdb_only`` (a test about DuckDB itself: its file, WAL,
checkpoints, ``--duckdb-*`` flags), it runs on DuckDB alone.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
import pytest

from tracepond.store.url import parse_store_url

READY = re.compile(
    r"^tracepond ready grpc=(?P<grpc>\S+):(?P<grpc_port>\d+) "
    r"http=(?P<http>\S+):(?P<http_port>\d+) db=(?P<db>.+) version=(?P<version>\S+)$"
)
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0

T = TypeVar("T")
StoreKind = Literal["duckdb", "chdb"]
# The stores that tests taking ``store_kind`` run against.
STORES: tuple[StoreKind, ...] = ("duckdb", "chdb")
# Where a server keeps its data, by store, under the directory it is given.
DATA_NAMES: dict[StoreKind, str] = {"duckdb": "tracepond.duckdb", "chdb": "chdb"}


@dataclass
class TracepondProcess:
    """One running ``tracepond serve``; ``http``/``grpc`` are ``host:port`` addresses.
    ``store``: the URL scheme of its store (``duckdb``, ``chdb``, ``clickhouse``...);
    ``data_path``: its DuckDB file or chdb directory, as the ready line shows it (None for a
    ClickHouse server)."""

    process: subprocess.Popen[str]
    http: str
    grpc: str
    store: str
    data_path: Path | None
    version: str
    stderr_path: Path
    stdout_lines: list[str] = field(default_factory=list)
    _client: httpx.Client | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def db_path(self) -> Path:
        """The DuckDB file; a server on another store has none, and a DuckDB-only test that
        reaches for it on one fails here rather than on some unrelated path."""
        if self.store != "duckdb" or self.data_path is None:
            raise AssertionError(f"a server on the {self.store} store has no DuckDB file")
        return self.data_path

    @property
    def url(self) -> str:
        return f"http://{self.http}"

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, timeout=60.0)
        return self._client

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None)

    def get_json(self, path: str, **params: Any) -> Any:
        response = self.get(path, **params)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def post_otlp(
        self, body: bytes, content_type: str = "application/x-protobuf", **headers: str
    ) -> httpx.Response:
        return self.client.post(
            "/v1/traces", content=body, headers={"Content-Type": content_type, **headers}
        )

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """The trace tree, or None when the API answers 404."""
        response = self.get(f"/api/traces/{trace_id}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return response.json()

    def all_traces(self) -> list[dict[str, Any]]:
        """Every trace summary, following next_cursor to the end."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = self.get_json("/api/traces", **params)
            out.extend(page["traces"])
            cursor = page["next_cursor"]
            if not cursor:
                return out

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def memory_hwm_kib(self) -> int:
        """Peak resident set size of the server process (VmHWM), in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
        assert match, status
        return int(match.group(1))

    def close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then wait for a clean exit; returns the exit code."""
        self.close_client()
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> int:
        """SIGKILL: no shutdown work at all."""
        self.close_client()
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        return self.process.wait(STOP_TIMEOUT)


def tracepond_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tracepond.cli", "serve", *args]


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without TRACEPOND_* variables, plus ``env``."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("TRACEPOND_")}
    out.update(env or {})
    return out


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``tracepond ARGS`` in a subprocess with ``clean_env(env)``; its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tracepond.cli", *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def store_flags(store: StoreKind, data_path: Path) -> list[str]:
    """The flags that put a server's data at ``data_path`` on ``store``."""
    if store == "duckdb":
        return ["--db", str(data_path)]
    return ["--store", f"chdb://{data_path.resolve()}"]


def launch_tracepond(
    data_path: Path | None,
    *args: str,
    store: StoreKind = "duckdb",
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    cwd: Path | None = None,
) -> TracepondProcess:
    """Start ``tracepond serve`` on free loopback ports and wait for its ready line.

    ``data_path`` is the DuckDB file, or with ``store="chdb"`` the chdb directory; None passes
    no store flag (the env var or the default applies); ``args`` come after the defaults, so
    they override them."""
    log_dir = log_dir or cwd or (data_path.parent if data_path else Path.cwd())
    log_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = log_dir / f"tracepond-{time.monotonic_ns()}.stderr"
    command = tracepond_command("--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0")
    if data_path is not None:
        command += store_flags(store, data_path)
    command += args
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=clean_env(env),
            cwd=cwd,
        )
    lines: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        # Keep reading stdout for the whole life of the process so that it never blocks on a
        # full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if READY.match(lines[-1]):
                ready.set()
        ready.set()

    threading.Thread(target=drain, name="tracepond-stdout", daemon=True).start()
    if not ready.wait(START_TIMEOUT) or not any(READY.match(line) for line in lines):
        with contextlib.suppress(OSError):
            process.kill()
        process.wait(STOP_TIMEOUT)
        raise RuntimeError(
            f"tracepond did not become ready (exit {process.returncode}):\n"
            f"stdout: {lines}\nstderr: {stderr_path.read_text(errors='replace')}"
        )
    match = next(m for m in map(READY.match, lines) if m)
    kind, data = _store_of(match["db"])
    return TracepondProcess(
        process=process,
        http=f"{match['http']}:{match['http_port']}",
        grpc=f"{match['grpc']}:{match['grpc_port']}",
        store=kind,
        data_path=data,
        version=match["version"],
        stderr_path=stderr_path,
        stdout_lines=lines,
    )


def _store_of(shown: str) -> tuple[str, Path | None]:
    """The store and data path of a ready line's ``db=``: a DuckDB file's path as it was
    given, or a store URL (password hidden)."""
    if "://" not in shown:
        return "duckdb", Path(shown)
    url = parse_store_url(shown)
    return url.scheme, url.path


@pytest.fixture
def start_tracepond(tmp_path: Path) -> Iterator[Callable[..., TracepondProcess]]:
    """Factory: ``start_tracepond(*flags, store="duckdb", db_path=None, env=None, cwd=None,
    pass_db=True)``; every server it started is killed when the test ends. The default data
    path is ``tmp_path/tracepond.duckdb``, or ``tmp_path/chdb`` for ``store="chdb"`` (reused by
    a second call, which is how restart tests reopen the same store); ``db_path`` names another
    file or directory; ``pass_db=False`` gives no store flag at all."""
    started: list[TracepondProcess] = []

    def start(
        *args: str,
        store: StoreKind = "duckdb",
        db_path: Path | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        pass_db: bool = True,
    ) -> TracepondProcess:
        data = (db_path or tmp_path / DATA_NAMES[store]) if pass_db else None
        server = launch_tracepond(data, *args, store=store, env=env, log_dir=tmp_path, cwd=cwd)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@contextlib.contextmanager
def _launcher(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., TracepondProcess]]:
    """``launch(*flags, store="duckdb", env=None)`` starts a server on a fresh store in its own
    temporary directory; all of them are killed when the context ends."""
    started: list[TracepondProcess] = []

    def launch(
        *args: str, store: StoreKind = "duckdb", env: dict[str, str] | None = None
    ) -> TracepondProcess:
        directory = tmp_path_factory.mktemp(f"tracepond-{store}")
        server = launch_tracepond(directory / DATA_NAMES[store], *args, store=store, env=env)
        started.append(server)
        return server

    try:
        yield launch
    finally:
        for server in started:
            server.kill()


@pytest.fixture(scope="session")
def launch_shared_tracepond(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., TracepondProcess]]:
    """For session-scoped servers: ``launch(*flags, store="duckdb", env=None)`` starts one on a
    fresh store in its own temporary directory; all of them are killed when the session ends."""
    with _launcher(tmp_path_factory) as launch:
        yield launch


@pytest.fixture(scope="module")
def launch_module_tracepond(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., TracepondProcess]]:
    """``launch_shared_tracepond`` for module-scoped servers: killed when the module's tests are
    done, so that servers do not pile up (a chdb server holds a few hundred MB)."""
    with _launcher(tmp_path_factory) as launch:
        yield launch


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "duckdb_only: about DuckDB itself; runs on DuckDB even where tests run per store"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that takes ``store_kind`` (directly or through its fixtures) runs once per
    store, on DuckDB alone when marked ``duckdb_only``. Module-scoped: a module's tests run
    store by store, and the suite keeps its order (a session-scoped parameter would make pytest
    move every per-store test to the front, the browser tests' running event loop with them).
    Servers shared across modules are cached per store for the session (``per_store``)."""
    if "store_kind" not in metafunc.fixturenames:
        return
    only = metafunc.definition.get_closest_marker("duckdb_only")
    kinds = ["duckdb"] if only else list(STORES)
    metafunc.parametrize("store_kind", kinds, ids=kinds, indirect=True, scope="module")


@pytest.fixture(scope="module")
def store_kind(request: pytest.FixtureRequest) -> StoreKind:
    """The store this test's servers run on (``pytest_generate_tests`` parametrizes it). The
    chdb runs are part of the suite: without chdb they fail, they are not skipped."""
    kind: StoreKind = request.param
    if kind == "chdb" and importlib.util.find_spec("chdb") is None:
        pytest.fail("the chdb runs need chdb: pip install -e '.[dev]'", pytrace=False)
    return kind


@pytest.fixture(scope="session")
def shared_server(
    launch_shared_tracepond: Callable[..., TracepondProcess],
) -> Callable[[StoreKind], TracepondProcess]:
    """``shared_server(store)``: the session's server with default limits on that store,
    started on first use; tests that share it must use fresh trace ids."""
    return per_store(lambda store: launch_shared_tracepond(store=store))


def per_store(build: Callable[[StoreKind], T]) -> Callable[[StoreKind], T]:
    """``build(store)`` once per store, on first use: for session fixtures that module-scoped
    per-store fixtures share (``store_kind`` is module-scoped)."""
    built: dict[StoreKind, T] = {}

    def get(store: StoreKind) -> T:
        if store not in built:
            built[store] = build(store)
        return built[store]

    return get


@pytest.fixture(scope="session")
def tracepond_server(shared_server: Callable[[StoreKind], TracepondProcess]) -> TracepondProcess:
    """The session's DuckDB server with default limits; tests must use fresh trace ids. The
    API, search and web packages override it with ``shared_server(store_kind)``: one per store."""
    return shared_server("duckdb")
