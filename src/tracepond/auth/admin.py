"""Creating, listing and revoking API keys: the same for the API, the CLI through a server
and the CLI on the database file (``--db``). Writes go through ``run_write`` (the server's
writer thread, or a direct call when the CLI owns the database); every change is logged with
the key's id and name, never its secret."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from tracepond.auth.keys import NewKey, generate, parse_lifetime
from tracepond.auth.principal import Principal
from tracepond.model.keys import KeyRecord

_T = TypeVar("_T")
RunWrite = Callable[[Callable[[], _T]], _T]

log = logging.getLogger(__name__)


class KeyStore(Protocol):
    def insert_key(self, key: KeyRecord) -> None: ...
    def revoke_key(self, key_id: str, now_ns: int) -> bool: ...
    def api_keys(self) -> list[KeyRecord]: ...
    def projects_exists(self, name: str) -> bool: ...


def direct(job: Callable[[], _T]) -> _T:
    return job()


class KeyAdmin:
    def __init__(
        self,
        store: KeyStore,
        run_write: Callable[[Callable[[], Any]], Any] = direct,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._run_write = run_write
        self._changed = changed

    def create(
        self,
        *,
        project: str | None,
        scope: str,
        name: str = "",
        expires: str | None = None,
        by: Principal | None = None,
    ) -> NewKey:
        """Raises ValueError for a bad scope, project or lifetime (or a project that does not
        exist: a key for a misspelt project could never write or read anything)."""
        lifetime = None if not expires else parse_lifetime(expires)
        if project is not None and not self._store.projects_exists(project):
            raise ValueError(
                f"no project {project!r}: create it first (tracepond projects create {project})"
            )
        new = generate(
            name=name, project=project, scope=scope, now_ns=time.time_ns(), lifetime_ns=lifetime
        )
        self._run_write(lambda: self._store.insert_key(new.record))
        self._changed()
        record = new.record
        log.info(
            "API key created: id=%s name=%s project=%s scope=%s by=%s",
            record.id,
            record.name,
            record.project or "*",
            record.scope,
            _who(by),
        )
        return new

    def revoke(self, key_id: str, by: Principal | None = None) -> bool:
        now = time.time_ns()
        found = bool(self._run_write(lambda: self._store.revoke_key(key_id, now)))
        if found:
            self._changed()
            log.info("API key revoked: id=%s by=%s", key_id, _who(by))
        return found

    def list(self) -> list[KeyRecord]:
        return self._store.api_keys()

    def find(self, key_id: str) -> KeyRecord | None:
        return next((k for k in self.list() if k.id == key_id), None)


def _who(principal: Principal | None) -> str:
    return "-" if principal is None else f"{principal.key_name} ({principal.key_id})"


def describe(record: KeyRecord, last_used_ns: int | None = None) -> dict[str, Any]:
    """A key as the API and the CLI show it: never its hash."""
    return {
        "id": record.id,
        "name": record.name,
        "project": record.project,
        "scope": record.scope,
        "created_ns": record.created_ns,
        "expires_ns": record.expires_ns,
        "revoked_ns": record.revoked_ns,
        "last_used_ns": last_used_ns,
        "state": _state(record),
    }


def _state(record: KeyRecord) -> str:
    if record.revoked_ns is not None:
        return "revoked"
    return "active" if record.usable(time.time_ns()) else "expired"
