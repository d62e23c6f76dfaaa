"""Who a request comes from (a ``Principal``) and what that principal may do.

Scopes: ``ingest`` sends spans (OTLP only); ``read`` reads (query API, web view, Jaeger API,
exports); ``admin`` manages projects, keys, retention and deletion, and implies the other two.
A key bound to a project acts in that project only; ``project=None`` (all projects) is for admin
keys only. When authentication is off there is no principal at all (``None``), and every check
below allows everything: that is the open local mode.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Literal

Scope = Literal["ingest", "read", "admin"]
SCOPES: tuple[Scope, ...] = ("ingest", "read", "admin")


@dataclass(frozen=True)
class Principal:
    key_id: str
    key_name: str
    # None: every project (admin keys only).
    project: str | None
    scope: Scope


def _in_project(principal: Principal, project: str) -> bool:
    return principal.project is None or principal.project == project


def may_read(principal: Principal | None, project: str) -> bool:
    return principal is None or (
        principal.scope in ("read", "admin") and _in_project(principal, project)
    )


def may_ingest(principal: Principal | None, project: str) -> bool:
    return principal is None or (
        principal.scope in ("ingest", "admin") and _in_project(principal, project)
    )


def may_admin(principal: Principal | None) -> bool:
    return principal is None or principal.scope == "admin"


# The project an ingest request is bound to by its API key (None: the key is not bound to one,
# or auth is off). Set by the HTTP middleware and the gRPC interceptor for the request's task,
# so the receivers' project routing reads one value whatever the transport: when it is set, it
# wins over the x-tracepond-project header and the tracepond.project resource attribute.
key_project: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "tracepond_key_project", default=None
)
