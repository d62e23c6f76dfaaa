"""``tracepond serve``: one process, one event loop, the gRPC and HTTP receivers and the API.

Start-up order: open (and migrate) the store, start the writer, bind both ports, then print the
ready line. Shutdown (SIGINT/SIGTERM): stop taking requests, commit what is queued, checkpoint
and close the database, so nothing acknowledged is lost and nothing queued is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

import uvicorn

from tracepond._logging import ready_line
from tracepond._version import __version__
from tracepond.api.app import create_app
from tracepond.ingest.decoding import Decoder, InlineDecoder, ProcessDecoder
from tracepond.ingest.grpc_receiver import GrpcReceiver, start_grpc_server
from tracepond.ingest.http_receiver import HttpReceiver
from tracepond.ingest.pipeline import WritePipeline
from tracepond.ingest.service import IngestService
from tracepond.jaeger import mount as mount_jaeger
from tracepond.metrics import Metrics
from tracepond.metrics import mount as mount_metrics
from tracepond.query.service import QueryService
from tracepond.settings import Settings
from tracepond.store.duckdb_store import DuckDBStore

log = logging.getLogger("tracepond")


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises the signal after serving, which
    would end the process before the queue is committed and the database closed."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class TracepondServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = DuckDBStore(
            settings.db_path,
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
            checkpoint_threshold=settings.duckdb_checkpoint_threshold,
            # A span can be as large as a request body; DuckDB's memory is sized for one.
            max_row_bytes=settings.max_body_bytes,
        )
        self.metrics = Metrics(self.store)
        self.pipeline = WritePipeline(
            self.store,
            max_queued_spans=settings.max_queued_spans,
            max_commit_spans=settings.max_commit_spans,
            on_commit=self.metrics.on_commit,
        )
        self.decoder: Decoder = (
            ProcessDecoder(
                settings.decode_workers,
                settings.max_attribute_bytes,
                settings.normalize_at_ingest,
                nice=settings.decode_worker_nice,
            )
            if settings.decode_workers
            else InlineDecoder(settings.max_attribute_bytes, settings.normalize_at_ingest)
        )
        self.ingest = IngestService(self.decoder, self.pipeline)
        self.metrics.watch(self.pipeline, self.ingest, settings.max_queued_spans)
        self.query = QueryService(self.store)
        self._ready = False
        self.grpc_port = 0
        self.http_port = 0

    def is_ready(self) -> bool:
        return self._ready

    @property
    def http_url(self) -> str:
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        return f"http://{host}:{self.http_port}"

    async def run(
        self,
        announce: TextIO = sys.stdout,
        on_ready: Callable[[TracepondServer], None] | None = None,
    ) -> None:
        settings = self.settings
        self.decoder.start()
        self.pipeline.start()
        grpc_server, self.grpc_port = await start_grpc_server(
            GrpcReceiver(self.ingest), settings.host, settings.grpc_port, settings.max_body_bytes
        )
        http_socket = _bind(settings.host, settings.http_port)
        self.http_port = http_socket.getsockname()[1]
        app = create_app(
            self.query,
            HttpReceiver(self.ingest, settings.max_body_bytes),
            self.is_ready,
            self.store.health,
        )
        mount_metrics(app, self.metrics)
        mount_jaeger(app, self.store)
        http = _Uvicorn(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._request_exit, http)
        serving = asyncio.create_task(http.serve(sockets=[http_socket]))
        while not http.started and not serving.done():
            await asyncio.sleep(0.01)
        # Not waiting for the decode workers: requests are decoded in-process until they are up.
        self._ready = True
        self._announce(announce)
        if on_ready is not None:
            on_ready(self)
        try:
            await serving
        finally:
            self._ready = False
            await grpc_server.stop(grace=5)
            self.decoder.close()
            self.pipeline.stop()
            self.metrics.close()
            self.store.close()
            log.info("tracepond stopped; database closed")

    def _request_exit(self, http: uvicorn.Server) -> None:
        self._ready = False
        http.should_exit = True

    def _announce(self, out: TextIO) -> None:
        host = self.settings.host
        if self.settings.log_json:
            # The same one line, as a JSON object (fields: grpc, http, db, version, url).
            out.write(
                ready_line(
                    {
                        "grpc": f"{host}:{self.grpc_port}",
                        "http": f"{host}:{self.http_port}",
                        "db": str(self.settings.db_path),
                        "version": __version__,
                        "url": f"{self.http_url}/",
                    }
                )
                + "\n"
            )
            out.flush()
            return
        out.write(
            f"tracepond ready grpc={host}:{self.grpc_port} http={host}:{self.http_port} "
            f"db={self.settings.db_path} version={__version__}\n"
        )
        out.write(f"  web view and API: {self.http_url}/\n")
        out.flush()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def serve(settings: Settings, on_ready: Callable[[TracepondServer], None] | None = None) -> None:
    # The writer thread gives up the GIL at every DuckDB call and must win it back from the
    # decoding event loop each time; at the default 5 ms switch interval those waits added up
    # to most of a commit's time. 0.5 ms keeps commits short at a small cost in switching.
    sys.setswitchinterval(float(os.environ.get("TRACEPOND_SWITCH_INTERVAL", "0.0005")))
    main = TracepondServer(settings).run(on_ready=on_ready)
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows)
        asyncio.run(main)
    else:
        uvloop.run(main)
