"""Turning a request body into an Arrow batch, in this process or in worker processes.

Decoding is pure Python and holds the GIL for ~25 µs per span. In the server process it would
compete with the event loop and the writer thread for one GIL, and commits would wait on it.
``ProcessDecoder`` runs it in worker processes instead and ships the rows back as Arrow IPC, so
the server process keeps its GIL for I/O and DuckDB gets a core. ``InlineDecoder`` decodes in the
calling thread (``--decode-workers 0``: one process, for small machines and debugging).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Literal, Protocol

import pyarrow as pa

from tracepond._arrow import settle_pandas_probe
from tracepond.conventions import PriceTable, summarize
from tracepond.errors import Overloaded
from tracepond.ingest._limits import SpanLimits
from tracepond.ingest._memory import release_large_buffers
from tracepond.ingest._rows import to_arrow
from tracepond.ingest.decode import SpanDecoder, parse_protobuf
from tracepond.ingest.otlp_json import parse_json_spans
from tracepond.model.spans import SpanBatch
from tracepond.model.summary import TracePartial

Encoding = Literal["protobuf", "json"]


@dataclass(frozen=True)
class DecodeOutcome:
    """The valid spans of a request (None when there are none), and what was rejected and why
    (reason -> count)."""

    batch: SpanBatch | None
    rejected: int
    reasons: dict[str, int]

    @property
    def accepted(self) -> int:
        return 0 if self.batch is None else self.batch.num_rows

    def error_message(self) -> str:
        if not self.rejected:
            return ""
        parts = [f"{count} {reason}" for reason, count in Counter(self.reasons).most_common()]
        return f"rejected {self.rejected} invalid span(s): " + "; ".join(parts)


def decode_body(
    decoder: SpanDecoder, body: bytes | list[bytes], encoding: Encoding
) -> DecodeOutcome:
    """Parse, validate and convert one request body. Raises InvalidRequest if unparseable.

    Given as a one-item list, the body is taken out of it and dropped once parsed: the parsed
    message holds its own copy, and a large request need not be held twice while decoded."""
    unparsed: Counter[str] = Counter()
    if isinstance(body, list):
        body = body.pop()
    if encoding == "protobuf":
        request = parse_protobuf(body)
    else:
        request, unparsed = parse_json_spans(body)
    del body
    decoded = decoder.decode(request)
    del request  # the rows hold what is stored of it
    decoded.rejected += unparsed.total()
    decoded.reasons.update(unparsed)
    batch = None
    if decoded.accepted:
        rows = decoded.rows
        batch = SpanBatch(to_arrow(rows), summarize(rows.row_columns, rows.views), rows.origins)
        batch.origin_projects = rows.origin_projects
    return DecodeOutcome(batch, decoded.rejected, dict(decoded.reasons))


class Decoder(Protocol):
    """``decode`` takes a body given as a one-item list out of it: the caller then holds no
    reference, and the body is freed as soon as the decoder is done with it."""

    async def decode(self, body: bytes | list[bytes], encoding: Encoding) -> DecodeOutcome: ...

    def start(self) -> concurrent.futures.Future[None] | None: ...

    def close(self) -> None: ...


class InlineDecoder:
    def __init__(
        self, limits: SpanLimits, normalize: bool = True, prices: PriceTable | None = None
    ) -> None:
        # Request bodies are read and decoded in this process.
        release_large_buffers()
        self.decoder = SpanDecoder(limits=limits, normalize=normalize, prices=prices)

    async def decode(self, body: bytes | list[bytes], encoding: Encoding) -> DecodeOutcome:
        return decode_body(self.decoder, body, encoding)

    def start(self) -> None:
        return None

    def close(self) -> None:
        return None


class ProcessDecoder:
    """Decodes in ``workers`` processes, each ``nice`` steps below the server's CPU priority, so
    that the writer thread (the one serial stage between a request and its acknowledgment) and
    the event loop run first and decoding fills the cycles they leave."""

    def __init__(
        self,
        workers: int,
        limits: SpanLimits,
        normalize: bool = True,
        nice: int = 0,
        prices: PriceTable | None = None,
    ) -> None:
        self._workers = workers
        self._limits = limits
        self._normalize = normalize
        self._nice = nice
        # Pickled to each worker: the same overrides; each builds its own lookup cache.
        self._prices = prices
        # Request bodies are read here and their decoded rows come back here.
        release_large_buffers()
        self._pool = self._new_pool()
        # Until the workers have imported what they need (~1 s after start), requests are
        # decoded in this process, so the server accepts spans as soon as its ports are bound.
        self._inline = InlineDecoder(limits, normalize, prices)
        self._warm: concurrent.futures.Future[None] | None = None

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        # spawn, not fork: the server process runs threads (gRPC, the writer) by then.
        return concurrent.futures.ProcessPoolExecutor(
            self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            # The server's pid, not the worker's getppid(): a server killed while the worker is
            # still starting leaves it reparented before it could read its parent.
            initargs=(self._limits, self._normalize, self._nice, os.getpid(), self._prices),
        )

    def start(self) -> concurrent.futures.Future[None]:
        """Warm the workers up (imports take ~1 s); the returned future completes when ready."""
        self._warm = self._pool.submit(_warm)
        return self._warm

    async def decode(self, body: bytes | list[bytes], encoding: Encoding) -> DecodeOutcome:
        if self._warm is None or not self._warm.done():
            # Off the event loop; one GIL with the rest of the server, but only at start.
            return await asyncio.to_thread(decode_body, self._inline.decoder, body, encoding)
        # The pool holds the body until the worker's answer is in; from then on nothing does.
        pending = asyncio.get_running_loop().run_in_executor(
            self._pool, _decode_in_worker, [_taken(body)], encoding
        )
        del body
        try:
            ipc, traces, origins, origin_projects, rejected, reasons = await pending
        except concurrent.futures.process.BrokenProcessPool:
            # A worker died (out of memory, killed): start fresh ones; the sender retries.
            self._pool = self._new_pool()
            raise Overloaded("decoder worker restarted; retry", retry_after_seconds=1) from None
        if not ipc:
            return DecodeOutcome(None, rejected, reasons)
        table = pa.ipc.open_stream(pa.py_buffer(ipc)).read_all()
        batch = SpanBatch(table, traces, origins, origin_projects=origin_projects)
        return DecodeOutcome(batch, rejected, reasons)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _taken(body: bytes | list[bytes]) -> bytes:
    return body.pop() if isinstance(body, list) else body


_worker_decoder: SpanDecoder | None = None
PARENT_CHECK_SECONDS = 0.5


def _init_worker(
    limits: SpanLimits, normalize: bool, nice: int, server_pid: int, prices: PriceTable | None
) -> None:
    global _worker_decoder
    _lower_priority(nice)
    release_large_buffers()
    settle_pandas_probe()
    _worker_decoder = SpanDecoder(limits=limits, normalize=normalize, prices=prices)
    threading.Thread(
        target=_exit_with_parent, args=(server_pid,), name="parent-watch", daemon=True
    ).start()


def _lower_priority(nice: int) -> None:
    # Lowering one's own priority needs no privilege; a platform without nice() (Windows) runs
    # the workers at the server's priority.
    if nice and hasattr(os, "nice"):
        os.nice(nice)


def _exit_with_parent(parent: int) -> None:
    # A server killed outright (SIGKILL, out of memory) cannot shut its pool down, and an idle
    # worker blocks on its task queue forever: without this it would outlive the server.
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _warm() -> None:
    return None


# (Arrow IPC, trace partials, origins, origin projects, rejected, reasons)
_WorkerResult = tuple[
    bytes,
    dict[bytes, TracePartial],
    dict[int, tuple[str, str]],
    dict[int, str],
    int,
    dict[str, int],
]


def _decode_in_worker(body: list[bytes], encoding: Encoding) -> _WorkerResult:
    """``body`` is a one-item list so that the body can be dropped once parsed: the pool's
    call item holds the list, not the bytes, for as long as the call runs."""
    assert _worker_decoder is not None, "worker initializer did not run"
    outcome = decode_body(_worker_decoder, body, encoding)
    batch, rejected, reasons = outcome.batch, outcome.rejected, outcome.reasons
    del outcome
    if batch is None:
        return b"", {}, {}, {}, rejected, reasons
    ipc = _ipc_buffer(batch.table)
    traces, origins, origin_projects = batch.traces, batch.origins, batch.origin_projects
    # The columns go before the stream is copied out (and pickled by the pool): a large
    # request is held at most twice at any moment.
    del batch
    return ipc.to_pybytes(), traces, origins, origin_projects, rejected, reasons


def _ipc_buffer(table: pa.Table) -> pa.Buffer:
    """``table`` as an Arrow IPC stream, in a buffer of its exact size (a growing stream would
    hold up to twice that)."""
    buffer = pa.allocate_buffer(_ipc_size(table))
    _write_ipc(table, pa.FixedSizeBufferWriter(buffer))
    return buffer


def _ipc_size(table: pa.Table) -> int:
    counter = pa.MockOutputStream()
    _write_ipc(table, counter)
    return int(counter.size())


def _write_ipc(table: pa.Table, sink: pa.NativeFile) -> None:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
