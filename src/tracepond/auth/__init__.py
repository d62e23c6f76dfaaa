"""API keys, scopes and who is asking: the neutral part of authentication.

It imports only the neutral data model (``tracepond.model``): the store keeps
``model.keys.KeyRecord`` rows and never imports this package; the HTTP middleware
(``api/auth.py``) and the gRPC interceptor (``ingest/grpc_auth.py``) turn a presented key into
a ``Principal`` through one ``KeyTable``.
"""

from tracepond.auth.principal import (
    SCOPES,
    Principal,
    may_admin,
    may_ingest,
    may_read,
)

__all__ = ["SCOPES", "Principal", "may_admin", "may_ingest", "may_read"]
