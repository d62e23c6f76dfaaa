"""Turning what a request presents (a bearer key, a session token) into a ``Principal``.

Shared by the HTTP middleware and the gRPC interceptor, so that both refuse the same keys with
the same words, and failed attempts from one address are counted once across both.
"""

from __future__ import annotations

import logging
from typing import Literal

from tracepond.auth.keys import key_id
from tracepond.auth.limiter import FailureLimiter
from tracepond.auth.principal import Principal
from tracepond.auth.sessions import Sessions
from tracepond.auth.table import KeyTable
from tracepond.errors import PermissionDenied, Unauthenticated

AuthMode = Literal["auto", "on", "off"]
# One message for every unusable key: it must not tell whether a key exists.
INVALID_KEY = "invalid API key: it is malformed, unknown, revoked or expired"
MISSING_KEY = "an API key is required: send the header 'Authorization: Bearer <key>'"

log = logging.getLogger(__name__)


class Authenticator:
    def __init__(
        self,
        table: KeyTable,
        mode: AuthMode,
        loopback: bool,
        limiter: FailureLimiter,
        sessions: Sessions,
    ) -> None:
        self.table = table
        self.mode = mode
        self.loopback = loopback
        self.limiter = limiter
        self.sessions = sessions

    @property
    def required(self) -> bool:
        """``auto``: required off loopback, and on loopback as soon as one key exists."""
        if self.mode == "auto":
            return not self.loopback or self.table.has_keys()
        return self.mode == "on"

    def retry_after(self, client: str) -> int | None:
        return self.limiter.retry_after(client)

    def from_authorization(self, client: str, header: str | None) -> Principal:
        """The principal of an ``Authorization`` value (``Bearer <key>``); raises
        Unauthenticated (the failure counted against ``client``)."""
        if header is None:
            raise Unauthenticated(MISSING_KEY)
        scheme, _, key = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return self._refuse(client, None, "not a Bearer credential")
        return self.from_key(client, key.strip())

    def from_key(self, client: str, key: str) -> Principal:
        principal = self.table.verify(key)
        if principal is None:
            return self._refuse(client, key_id(key), "no usable key")
        return principal

    def from_session(self, token: str) -> Principal | None:
        ident = self.sessions.key_of(token)
        return None if ident is None else self.table.principal_of(ident)

    def deny(self, principal: Principal, client: str, why: str) -> PermissionDenied:
        """The error for a valid key that may not do this, logged by key id and name."""
        log.warning(
            "denied API key %s (%s) from %s: %s", principal.key_id, principal.key_name, client, why
        )
        return PermissionDenied(why)

    def _refuse(self, client: str, ident: str | None, why: str) -> Principal:
        self.limiter.failed(client)
        # The key id (public: it names the key in lists) helps an operator; the key never.
        log.warning("refused an API key from %s (key id %s): %s", client, ident or "-", why)
        raise Unauthenticated(INVALID_KEY)
