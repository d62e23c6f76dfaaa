"""Run a query off the event loop, and stop it when its client goes away.

A sync route would keep its worker thread (and a DuckDB cursor, and memory) busy until the query
ends, even after the client has disconnected. Here the query runs in the thread pool under a
``Deadline`` while the route waits for either its result or the client's ``http.disconnect``;
on a disconnect the deadline is cancelled, and the store interrupts the running statement.
Shared by the API and the Jaeger routes, which are peers (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from tracepond.deadline import Deadline

log = logging.getLogger(__name__)


async def run_query(
    request: Request, deadline: Deadline, call: Callable[..., Any], *args: Any
) -> Any:
    """``call(*args, deadline=deadline)`` in the thread pool; its result, or its error (a
    ``QueryCancelled`` when the client went away first)."""
    work = asyncio.ensure_future(run_in_threadpool(lambda: call(*args, deadline=deadline)))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        if gone.done() and not work.done():
            log.warning("query cancelled: the client went away (%s)", request.url.path)
            deadline.cancel("disconnected")
        # The thread cannot be abandoned: it holds the store's cursor until the read stops.
        return await work
    finally:
        gone.cancel()


async def _disconnected(request: Request) -> None:
    """Returns when the client has disconnected (a GET's body, if any, is read and dropped)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
