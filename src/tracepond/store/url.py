"""Which store to open, as one URL (``--store`` / ``TRACEPOND_STORE``; docs/operate.md):

* ``duckdb://PATH``: the DuckDB file at PATH, everything after ``duckdb://`` taken as it is
  (``duckdb:///var/lib/tracepond/traces.duckdb``, or relative: ``duckdb://tracepond.duckdb``);
  ``--db PATH`` is short for it;
* ``clickhouse://user:password@host:8123/database`` (``clickhouses://`` over TLS, port 8443 by
  default): a ClickHouse server or cluster;
* ``chdb:///path/to/dir`` (optionally ``?database=name``): the same ClickHouse store on the
  in-process engine, its data in that directory.

A URL may carry a password: ``StoreUrl`` never shows it (``str``, ``repr`` and error messages
print ``***``); only ``secret_url`` gives it back, for the driver.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import SplitResult, parse_qs, quote, unquote, urlsplit

Scheme = Literal["duckdb", "clickhouse", "clickhouses", "chdb"]
CLICKHOUSE_SCHEMES = ("clickhouse", "clickhouses", "chdb")
FORMS = (
    "duckdb:///path/to/file.duckdb, clickhouse://user:password@host:8123/database,"
    " clickhouses://... (TLS) or chdb:///path/to/dir"
)
# The password of ``scheme://user:password@``, however malformed the rest of the URL is.
_PASSWORD = re.compile(r"(?P<head>^[A-Za-z][A-Za-z0-9+.-]*://[^/@:]*:)[^/@]*@")
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


@dataclass(frozen=True)
class StoreUrl:
    """A parsed store URL. ``path``: the DuckDB file or the chdb directory; ``host``, ``port``,
    ``username``, ``password``: a ClickHouse server's; ``database``: the ClickHouse database
    the URL names (None: the store's own default)."""

    scheme: Scheme
    path: Path | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def duckdb(cls, path: str | os.PathLike[str]) -> StoreUrl:
        return cls("duckdb", path=Path(path))

    @property
    def engine(self) -> Literal["duckdb", "clickhouse"]:
        return "duckdb" if self.scheme == "duckdb" else "clickhouse"

    @property
    def display(self) -> str:
        """What the ready line and logs show: the DuckDB file's path as given, else the URL
        with ``***`` for its password."""
        if self.scheme == "duckdb":
            return str(self.path)
        return self._url(show_password=False)

    def secret_url(self) -> str:
        """The URL with its password: for the store's driver only, never for output."""
        return self._url(show_password=True)

    def _url(self, *, show_password: bool) -> str:
        if self.scheme == "duckdb":
            return f"duckdb://{self.path}"
        if self.scheme == "chdb":
            named = f"?database={self.database}" if self.database else ""
            return f"chdb://{quote(str(self.path))}{named}"
        user = quote(self.username or "", safe="")
        if self.password is not None:
            user += ":" + (quote(self.password, safe="") if show_password else "***")
        host = f"[{self.host}]" if self.host and ":" in self.host else self.host
        return f"{self.scheme}://{user}@{host}:{self.port}/{self.database or ''}"

    def __str__(self) -> str:
        return self.display

    def same_database(self, other: StoreUrl) -> bool:
        """Whether two URLs name one database (DuckDB files compared by resolved path)."""
        if self.scheme == other.scheme == "duckdb":
            assert self.path is not None and other.path is not None
            return self.path.expanduser().resolve() == other.path.expanduser().resolve()
        return self == other


def redact(text: str) -> str:
    """``text`` (a URL as given, maybe malformed) with any password replaced by ``***``."""
    return _PASSWORD.sub(r"\g<head>***@", text.strip())


def parse_store_url(text: str) -> StoreUrl:
    """A ``StoreUrl``; ``ValueError`` (whose message never holds the password) when ``text``
    is not one of the forms above."""
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("duckdb", *CLICKHOUSE_SCHEMES):
        raise ValueError(f"not a store URL: {redact(text)!r}; use {FORMS}")
    if scheme == "duckdb":
        if not rest:
            raise ValueError("a duckdb URL names a file: duckdb:///path/to/file.duckdb")
        return StoreUrl.duckdb(rest)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a usable store URL: {redact(text)!r}: {exc}") from None
    if parts.fragment:
        raise ValueError(f"a store URL has no #fragment: {redact(text)!r}")
    if scheme == "chdb":
        return _chdb(text, parts.netloc, parts.path, parts.query)
    return _server(text, scheme, parts, port)


def _chdb(text: str, netloc: str, path: str, query: str) -> StoreUrl:
    if netloc or not path:
        raise ValueError(f"a chdb URL names a directory: chdb:///path/to/dir, not {redact(text)!r}")
    options = parse_qs(query, keep_blank_values=True)
    if set(options) - {"database"}:
        raise ValueError(f"a chdb URL takes only ?database=name: {redact(text)!r}")
    database = options.get("database")
    return StoreUrl(
        "chdb",
        path=Path(unquote(path)),
        database=_database(database[-1], text) if database else None,
    )


def _server(text: str, scheme: str, parts: SplitResult, port: int | None) -> StoreUrl:
    host = parts.hostname
    if not host:
        raise ValueError(
            f"a {scheme} URL names a server: {scheme}://user:password@host:8123/database,"
            f" not {redact(text)!r}"
        )
    if parts.query:
        raise ValueError(f"a {scheme} URL takes no ?options: {redact(text)!r}")
    database = unquote(parts.path.strip("/"))
    return StoreUrl(
        "clickhouses" if scheme == "clickhouses" else "clickhouse",
        host=host,
        port=port or (8443 if scheme == "clickhouses" else 8123),
        database=_database(database, text) if database else None,
        username=unquote(parts.username) if parts.username else "default",
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _database(name: str, text: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(
            f"not a usable ClickHouse database name {name!r} (letters, digits and _, not"
            f" starting with a digit) in {redact(text)!r}"
        )
    return name
