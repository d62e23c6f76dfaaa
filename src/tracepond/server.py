"""``tracepond serve``: one process, one event loop, the gRPC and HTTP receivers and the API.

Start-up order: read the price and TLS files, bind both ports (a port in use fails the start
before the database is touched), open (and migrate) the store, start the writer and the
receivers, then print the ready line. Shutdown (SIGINT/SIGTERM): stop taking requests, commit
what is queued, checkpoint and close the database, so nothing acknowledged is lost and nothing
queued is dropped.
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

import grpc
import uvicorn
from fastapi import FastAPI

from tracepond import server_auth
from tracepond._logging import ready_line
from tracepond._version import __version__
from tracepond.api.app import create_app
from tracepond.api.delete_routes import add_delete_routes
from tracepond.api.hosts import HostPolicy
from tracepond.errors import PortInUse
from tracepond.http_guard import guarded_protocol
from tracepond.ingest.budget import MemoryBudget
from tracepond.ingest.decoding import Decoder, InlineDecoder, ProcessDecoder
from tracepond.ingest.grpc_auth import AuthInterceptor
from tracepond.ingest.grpc_receiver import GrpcReceiver, bind_grpc_server, start_grpc_server
from tracepond.ingest.http_receiver import HttpReceiver
from tracepond.ingest.pipeline import WritePipeline
from tracepond.ingest.service import IngestService
from tracepond.jaeger import mount as mount_jaeger
from tracepond.metrics import Metrics
from tracepond.metrics import mount as mount_metrics
from tracepond.price_file import load_price_table
from tracepond.query.service import QueryService
from tracepond.retention.deleter import PurgeCounts, TraceDeleter
from tracepond.retention.purger import Purger, RetentionPolicy, pass_interval
from tracepond.server_settings import ServerSettings
from tracepond.store.contract import Store, housekeeping
from tracepond.store.open import open_store
from tracepond.tls import ServerTls, load_server_tls

log = logging.getLogger("tracepond")


class _Uvicorn(uvicorn.Server):
    """uvicorn without its own signal handling: it re-raises the signal after serving, which
    would end the process before the queue is committed and the database closed."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class TracepondServer:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        # Read first: a bad price file stops the start before any port or file is opened.
        self.prices = load_price_table(settings.prices_path)
        # Likewise a bad certificate or key: checked here, served by both ports.
        self.tls = load_server_tls(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
        self._ready = False
        self.grpc_port = 0
        self.http_port = 0
        self.grpc_auth = AuthInterceptor()

    def _open(self) -> None:
        """Open (and migrate) the store and build what uses it: only once both ports are
        bound, so that a start that cannot listen leaves no database files behind."""
        settings = self.settings
        limits = settings.span_limits()
        # DuckDB's memory is sized for the largest span row the decoder can make.
        options = settings.store_options(max_row_bytes=limits.max_row_bytes)
        self.store: Store = open_store(settings.store, options)
        self.metrics = Metrics(self.store)
        self.pipeline = WritePipeline(
            self.store,
            housekeeping=housekeeping(self.store),
            max_queued_spans=settings.max_queued_spans,
            max_commit_spans=settings.max_commit_spans,
            on_commit=self.metrics.on_commit,
        )
        self.decoder: Decoder = (
            ProcessDecoder(
                settings.decode_workers,
                limits,
                settings.normalize_at_ingest,
                nice=settings.decode_worker_nice,
                prices=self.prices,
            )
            if settings.decode_workers
            else InlineDecoder(limits, settings.normalize_at_ingest, self.prices)
        )
        self.ingest = IngestService(self.decoder, self.pipeline, self.store.projects_exists)
        self.metrics.watch(self.pipeline, self.ingest, settings.max_queued_spans)
        self.query = QueryService(self.store, settings.query_timeout)
        self.budget = MemoryBudget(settings.max_inflight_bytes)
        self.auth = server_auth.build(settings, self.store, self.pipeline)
        self.grpc_auth.attach(self.auth.authenticator)
        self.deleter = TraceDeleter(self.store, self.pipeline, PurgeCounts())
        self.metrics.watch_purges(self.deleter.counts)
        self.purger = Purger(
            self.deleter,
            RetentionPolicy(
                settings.retention_ns,
                settings.max_db_bytes,
                settings.purge_interval or pass_interval(settings.retention_ns),
            ),
        )

    def is_ready(self) -> bool:
        return self._ready

    @property
    def http_url(self) -> str:
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.http_port}"

    async def run(
        self,
        announce: TextIO = sys.stdout,
        on_ready: Callable[[TracepondServer], None] | None = None,
    ) -> None:
        settings = self.settings
        grpc_server, self.grpc_port = bind_grpc_server(
            settings.host,
            settings.grpc_port,
            settings.max_body_bytes,
            settings.max_inflight_bytes,
            credentials=_grpc_credentials(self.tls),
            interceptors=[self.grpc_auth],
        )
        try:
            http_socket = _bind_http(settings.host, settings.http_port)
        except PortInUse:
            await grpc_server.stop(None)
            raise
        self.http_port = http_socket.getsockname()[1]
        try:
            self._open()
        except BaseException:
            http_socket.close()
            await grpc_server.stop(None)
            raise
        await self._serve(grpc_server, http_socket, announce, on_ready)

    async def _serve(
        self,
        grpc_server: grpc.aio.Server,
        http_socket: socket.socket,
        announce: TextIO,
        on_ready: Callable[[TracepondServer], None] | None,
    ) -> None:
        settings = self.settings
        self.decoder.start()
        self.pipeline.start()
        self.auth.authenticator.table.start()
        await start_grpc_server(grpc_server, GrpcReceiver(self.ingest, self.budget))
        http = _Uvicorn(_uvicorn_config(self.build_app(), settings, self.tls))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._request_exit, http)
        serving = asyncio.create_task(http.serve(sockets=[http_socket]))
        while not http.started and not serving.done():
            await asyncio.sleep(0.01)
        # Not waiting for the decode workers: requests are decoded in-process until they are up.
        self._ready = True
        self.purger.start()
        self._announce(announce)
        if on_ready is not None:
            on_ready(self)
        try:
            await serving
        finally:
            self._ready = False
            await grpc_server.stop(grace=5)
            self.purger.stop()
            self.decoder.close()
            self.auth.authenticator.table.close()
            self.pipeline.stop()
            self.metrics.close()
            self.store.close()
            log.info("tracepond stopped; database closed")

    def build_app(self) -> FastAPI:
        """The HTTP application with every route (tests/auth enumerates them from here)."""
        settings = self.settings
        receiver = HttpReceiver(self.ingest, settings.max_body_bytes, self.budget)
        hosts = HostPolicy(settings.host, settings.allowed_hosts)
        app = create_app(
            self.query,
            receiver,
            self.is_ready,
            self.store.health,
            hosts,
            auth=self.auth.authenticator,
            key_admin=self.auth.admin,
            metrics_open=not settings.metrics_auth,
        )
        add_delete_routes(app, self.deleter)
        mount_metrics(app, self.metrics)
        mount_jaeger(app, self.query)
        return app

    def _request_exit(self, http: uvicorn.Server) -> None:
        self._ready = False
        http.should_exit = True

    def _announce(self, out: TextIO) -> None:
        host = self.settings.host
        if self.auth.initial_key is not None:
            # Standard output (the terminal), never the log: see server_auth.py.
            lines = server_auth.initial_key_lines(self.auth.initial_key)
            if self.settings.log_json:
                message = "no API key existed: created an admin key (shown only now)"
                lines = [ready_line({"msg": message, "initial_admin_key": self.auth.initial_key})]
            out.write("\n".join(lines) + "\n")
        if self.auth.open_off_loopback:
            log.warning("authentication is off while bound to %s", host)
        if self.settings.log_json:
            # The same one line, as a JSON object (fields: grpc, http, db, version, url).
            out.write(
                ready_line(
                    {
                        "grpc": f"{host}:{self.grpc_port}",
                        "http": f"{host}:{self.http_port}",
                        "db": self.settings.store.display,
                        "version": __version__,
                        "url": f"{self.http_url}/",
                        **({"warning": "auth off"} if self.auth.open_off_loopback else {}),
                        "tls": self.tls is not None,
                    }
                )
                + "\n"
            )
            out.flush()
            return
        out.write(
            f"tracepond ready grpc={host}:{self.grpc_port} http={host}:{self.http_port} "
            f"db={self.settings.store.display} version={__version__}\n"
        )
        out.write(f"  web view and API: {self.http_url}/\n")
        if self.auth.open_off_loopback:
            out.write(server_auth.open_warning(host) + "\n")
        if self.tls is not None:
            out.write(f"  {_tls_line(self.tls, host, self.grpc_port)}\n")
        out.flush()


def _uvicorn_config(
    app: FastAPI, settings: ServerSettings, tls: ServerTls | None
) -> uvicorn.Config:
    # uvicorn's httptools protocol (fast), with a bound on request heads and read deadlines.
    protocol = guarded_protocol(settings.max_header_bytes, settings.read_timeout_seconds)
    config = uvicorn.Config(
        app, http=protocol, log_level="warning", access_log=False, lifespan="off"
    )
    if tls is not None:
        # Our own context (Python's server defaults, the files already checked) rather than
        # uvicorn's ssl_* options, which would read the files again and prompt on a terminal
        # for an encrypted key. uvicorn keeps a loaded config's context.
        config.load()
        config.ssl = tls.http_context()
    return config


def _grpc_credentials(tls: ServerTls | None) -> grpc.ServerCredentials | None:
    if tls is None:
        return None
    return grpc.ssl_server_credentials(
        [(tls.key_pem, tls.cert_pem)],
        root_certificates=tls.client_ca_pem,
        require_client_auth=tls.mutual,
    )


def _tls_line(tls: ServerTls, host: str, grpc_port: int) -> str:
    who = (
        f"clients must present a certificate signed by {tls.client_ca_path}"
        if tls.mutual
        else "any client"
    )
    return (
        f"TLS on both ports (certificate {tls.cert_path}; {who}); OTLP/gRPC endpoint:"
        f" https://{host}:{grpc_port}"
    )


def _bind_http(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # SO_REUSEADDR lets a restart bind while old connections linger in TIME_WAIT; unlike
        # SO_REUSEPORT it does not let a second live server share the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise PortInUse(
            f"cannot listen for HTTP on {host}:{port}: {exc.strerror or exc};"
            " choose another port with --http-port"
        ) from exc
    sock.setblocking(False)
    return sock


def serve(
    settings: ServerSettings, on_ready: Callable[[TracepondServer], None] | None = None
) -> None:
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
