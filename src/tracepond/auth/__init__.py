"""API keys, scopes and who is asking: the neutral part of authentication.

Nothing here imports another tracepond layer: the store keeps ``KeyRecord`` rows, the HTTP
middleware (``api/auth.py``) and the gRPC interceptor (``ingest/grpc_auth.py``) turn a
presented key into a ``Principal`` through one ``KeyTable``.
"""

from tracepond.auth.principal import (
    SCOPES,
    Principal,
    may_admin,
    may_ingest,
    may_read,
)

__all__ = ["SCOPES", "Principal", "may_admin", "may_ingest", "may_read"]
