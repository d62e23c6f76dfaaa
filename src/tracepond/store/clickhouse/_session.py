"""Clients per thread, per-read limits, and cancellation.

Each thread that reads gets a client of its own (a chdb engine handle, or an HTTP connection):
a chdb client serializes its calls, so one shared client would make reads wait for each other.
The writer has its own client too. A read inside ``cancellable(deadline)`` is tagged with a
marker comment; cancelling the deadline runs ``KILL QUERY`` for that marker on a separate
control client, from whichever thread cancels (chdb's clients cannot carry a query_id).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tracepond.deadline import Deadline
from tracepond.errors import StorageUnavailable
from tracepond.store.clickhouse._connection import Target
from tracepond.store.clickhouse._errors import describe

log = logging.getLogger(__name__)


class ReadClient:
    """A client whose queries carry the thread's cancellation marker and the read limits."""

    def __init__(self, client: Any, sessions: Sessions) -> None:
        self.client = client
        self.sessions = sessions

    def query(self, sql: str, parameters: Any = None, settings: Any = None) -> Any:
        merged = {**self.sessions.read_settings, **(settings or {})}
        return self.client.query(
            self.sessions.marker() + sql, parameters=parameters, settings=merged or None
        )

    def insert(self, *args: Any, **kwargs: Any) -> Any:
        return self.client.insert(*args, **kwargs)


class Sessions:
    def __init__(self, target: Target, read_settings: dict[str, Any]) -> None:
        self.target = target
        self.read_settings = read_settings
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[Any] = []
        self._control: Any = None
        self.closed = False

    def new_client(self) -> Any:
        if self.closed:
            raise StorageUnavailable("store is closed")
        client = self.target.client()
        with self._lock:
            if self.closed:
                client.close()
                raise StorageUnavailable("store is closed")
            self._clients.append(client)
        return client

    def reader(self) -> ReadClient:
        """This thread's client, its statements tagged and limited as reads."""
        if self.closed:
            raise StorageUnavailable("store is closed")
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = ReadClient(self.new_client(), self)
        return client

    def deadline(self) -> Deadline | None:
        return getattr(self._local, "deadline", None)

    def marker(self) -> str:
        """The comment that tags this thread's statements (empty outside ``cancellable``)."""
        tag = getattr(self._local, "tag", None)
        return f"/* {tag} */ " if tag else ""

    @contextmanager
    def cancellable(self, deadline: Deadline) -> Iterator[None]:
        deadline.check()
        tag = f"tracepond-read-{uuid.uuid4().hex}"
        self._local.deadline, self._local.tag = deadline, tag
        forget = deadline.on_cancel(lambda: self._kill(tag))
        try:
            yield
        finally:
            forget()
            self._local.deadline = self._local.tag = None

    def _kill(self, tag: str) -> None:
        """Stop the running statements tagged ``tag`` (any thread; never raises)."""
        try:
            with self._lock:
                if self._control is None and not self.closed:
                    self._control = self.target.client()
                control = self._control
            if control is None:
                return
            control.command(
                "KILL QUERY WHERE position(query, {tag:String}) > 0"
                " AND NOT startsWith(query, 'KILL') ASYNC",
                parameters={"tag": tag},
            )
        except Exception as exc:
            log.warning("could not stop a read: %s", describe(exc))

    def close(self) -> None:
        with self._lock:
            self.closed = True
            clients, self._clients = self._clients, []
            if self._control is not None:
                clients.append(self._control)
                self._control = None
        for client in clients:
            with contextlib.suppress(Exception):
                client.close()
