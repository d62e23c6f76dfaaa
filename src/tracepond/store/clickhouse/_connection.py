"""Where the store connects: a URL parsed once into settings, and clients made from them.

``clickhouse://user:password@host:8123/database`` (HTTP), ``clickhouses://…`` (HTTPS) or
``chdb:///path/to/dir`` (the in-process engine; its database is ``tracepond`` unless the URL
says ``?database=``). chdb hosts one engine path per process: every client of one process must
use the same directory (clients on it share the data and run queries in parallel).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import clickhouse_connect

from tracepond.errors import TracepondError

DEFAULT_DATABASE = "tracepond"


@dataclass(frozen=True)
class Target:
    """One ClickHouse to connect to, from a URL."""

    kind: str  # "http" | "chdb"
    database: str
    host: str = "localhost"
    port: int = 8123
    username: str = "default"
    password: str = field(default="", repr=False)
    secure: bool = False
    path: str = ""

    def client(self, settings: dict[str, Any] | None = None) -> Any:
        """A new client (its own connection, or for chdb its own engine handle). The database
        may not exist yet: clients connect without one and name it in every statement."""
        if self.kind == "chdb":
            try:
                import chdb  # noqa: F401
            except ImportError:
                raise TracepondError(
                    "chdb:/// URLs need chdb (ClickHouse in-process): pip install chdb"
                ) from None
            return clickhouse_connect.get_client(dsn=f"chdb://{self.path}", settings=settings)
        return clickhouse_connect.get_client(
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            secure=self.secure,
            settings=settings,
            autogenerate_session_id=False,
        )


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme == "chdb":
        path = unquote(parts.path)
        if not path or parts.netloc:
            raise TracepondError(f"a chdb URL names a directory: chdb:///path/to/dir, not {url!r}")
        database = query.get("database", [DEFAULT_DATABASE])[0]
        return Target("chdb", _database(database), path=path)
    if parts.scheme not in ("clickhouse", "clickhouses"):
        raise TracepondError(
            f"not a ClickHouse URL: {url!r} (clickhouse://user:password@host:8123/database,"
            " clickhouses://… or chdb:///path/to/dir)"
        )
    secure = parts.scheme == "clickhouses"
    database = parts.path.strip("/") or DEFAULT_DATABASE
    return Target(
        "http",
        _database(unquote(database)),
        host=parts.hostname or "localhost",
        port=parts.port or (8443 if secure else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        secure=secure,
    )


def _database(name: str) -> str:
    """A database name, checked: it is pasted into every statement."""
    if not name.replace("_", "").isalnum() or not name.isascii() or name[0].isdigit():
        raise TracepondError(f"not a usable database name: {name!r} (letters, digits, '_')")
    return name
