"""Authentication for ``tracepond serve``: the key table, the first admin key, the warning.

First start without keys: when authentication is required (``--auth on``, or ``auto`` bound
off loopback) and the database holds no key at all, the server creates one admin key named
``initial-admin`` and prints it once on its standard output, before the ready line, like
Jupyter prints its token: never to the log (standard error). Create the keys you need with it,
then revoke it (docs/operate.md, "API keys").
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from tracepond.api.hosts import is_loopback
from tracepond.auth.admin import KeyAdmin
from tracepond.auth.gate import Authenticator, AuthMode
from tracepond.auth.keys import generate
from tracepond.auth.limiter import FailureLimiter
from tracepond.auth.sessions import Sessions
from tracepond.auth.table import KeyTable
from tracepond.ingest.pipeline import WritePipeline
from tracepond.server_settings import ServerSettings
from tracepond.store.contract import Store

INITIAL_KEY_NAME = "initial-admin"

log = logging.getLogger(__name__)


@dataclass
class ServerAuth:
    authenticator: Authenticator
    admin: KeyAdmin
    # The secret of the admin key created at this start (printed once), else None.
    initial_key: str | None

    @property
    def open_off_loopback(self) -> bool:
        return self.authenticator.mode == "off" and not self.authenticator.loopback


def build(settings: ServerSettings, store: Store, pipeline: WritePipeline) -> ServerAuth:
    """Before the writer starts: the first admin key is written directly."""
    mode: AuthMode = settings.auth  # type: ignore[assignment]
    table = KeyTable(store.api_keys)
    authenticator = Authenticator(
        table,
        mode,
        loopback=is_loopback(settings.host),
        limiter=FailureLimiter(settings.auth_failures_per_minute),
        sessions=Sessions(settings.session_hours * 3600),
    )
    initial = None
    if authenticator.required and not table.has_keys():
        new = generate(name=INITIAL_KEY_NAME, project=None, scope="admin", now_ns=time.time_ns())
        store.insert_key(new.record)
        table.reload()
        log.info("created the first admin key (id %s): printed on standard output", new.record.id)
        initial = new.secret
    admin = KeyAdmin(
        store,
        run_write=lambda job: pipeline.run_on_writer(job).result(timeout=60),
        changed=table.reload,
    )
    return ServerAuth(authenticator, admin, initial)


def initial_key_lines(secret: str) -> list[str]:
    return [
        "tracepond: authentication is on and no API key existed: created an admin key named"
        f" {INITIAL_KEY_NAME!r}. It is shown only now; keep it somewhere safe:",
        f"  {secret}",
    ]


def open_warning(host: str) -> str:
    return (
        f"  WARNING: --auth off on {host}: anyone who can reach these ports can read every"
        " trace and write spans"
    )
