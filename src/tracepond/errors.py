"""One exception hierarchy for the server side, mapped to HTTP and gRPC at the boundary.

Receivers and the query service raise these; `api/errors.py` and `ingest/grpc_receiver.py`
translate them into the one JSON error shape and into gRPC status codes.
"""

from __future__ import annotations


class TracepondError(Exception):
    """Base of every error tracepond raises on purpose."""

    http_status = 500
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def retry_after(self) -> int | None:
        """Seconds to wait before retrying (the Retry-After header): every 503 is transient, a
        retry after a second by default; None for the errors retrying cannot fix."""
        return 1 if self.http_status == 503 else None


class InvalidRequest(TracepondError):
    """The request could not be understood (malformed protobuf/JSON, bad parameter)."""

    http_status = 400
    code = "invalid_request"


class UnsupportedMediaType(TracepondError):
    """Content-Type or Content-Encoding that the receiver does not speak."""

    http_status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(TracepondError):
    """The body is over the limit, before or after decompression."""

    http_status = 413
    code = "payload_too_large"


class Overloaded(TracepondError):
    """The write queue is full: the sender should retry later."""

    http_status = 503
    code = "overloaded"

    def __init__(self, message: str, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    @property
    def retry_after(self) -> int | None:
        return self.retry_after_seconds


class NotFound(TracepondError):
    """The trace or span asked for is not stored."""

    http_status = 404
    code = "not_found"


class UnknownProject(InvalidRequest):
    """A project name that is valid but was never created (``tracepond projects create``):
    refused rather than created, so that a typo does not start a new project."""

    code = "unknown_project"


class ProjectNotFound(NotFound):
    """``GET /api/projects/{name}`` (and retention changes) of a project that does not exist."""

    code = "project_not_found"


class ProjectExists(TracepondError):
    """Creating a project that exists already."""

    http_status = 409
    code = "project_exists"


class StorageUnavailable(TracepondError):
    """The store cannot take the write now (shutting down, or the commit failed): retry later.

    Nothing of the failed request was stored: a write is one transaction."""

    http_status = 503
    code = "storage_unavailable"


# -- reads that hit a limit (docs/query.md, "Limits") ------------------------------------------


class QueryTooComplex(InvalidRequest):
    """A query over the language's complexity limits (selectors, relations, conditions)."""

    code = "query_too_complex"

    def __init__(self, message: str, position: int, expected: str) -> None:
        super().__init__(message)
        self.position = position
        self.expected = expected


class QueryTimeout(TracepondError):
    """The read ran past the query time limit and was stopped."""

    http_status = 503
    code = "query_timeout"


class QueryCancelled(TracepondError):
    """The read was stopped because its client went away (nobody reads this answer)."""

    http_status = 503
    code = "query_cancelled"


class QueryMemoryLimit(TracepondError):
    """The read needed more memory (or temporary disk) than the store allows it."""

    http_status = 503
    code = "query_memory_limit"


class StoreReadError(TracepondError):
    """The store failed a read for a reason of its own (logged with the engine's message)."""

    code = "store_error"


class HostNotAllowed(TracepondError):
    """The request's Host is not one this server answers (DNS rebinding protection)."""

    http_status = 403
    code = "host_not_allowed"


class PortInUse(TracepondError):
    """A port the server must listen on is taken (another tracepond, most likely)."""

    code = "port_in_use"


class StorageRejected(TracepondError):
    """The store refused the data for a reason retrying cannot fix (a value it cannot convert,
    a constraint). Nothing of the request was stored. HTTP 500 / gRPC INTERNAL, which OTLP
    exporters do not retry: answering 503 would make them retry the same data forever."""

    http_status = 500
    code = "storage_rejected"


class LaunchFailed(TracepondError):
    """`tracepond.launch()` could not start a server for this process (its message quotes the
    server's last output lines)."""

    code = "launch_failed"


class InvalidPriceFile(TracepondError):
    """The ``--prices`` file cannot be used (unreadable, not YAML, a bad entry): the server or
    ``tracepond reindex`` does not start. The message names the file, the entry and its line."""

    code = "invalid_price_file"


# -- authentication (docs/operate.md, "API keys") ----------------------------------------------


class Unauthenticated(TracepondError):
    """No usable API key: missing, malformed, unknown, revoked or expired. One message for all
    of them, so that the answer never tells whether a key exists. HTTP 401 with
    ``WWW-Authenticate: Bearer`` / gRPC UNAUTHENTICATED (OTLP exporters do not retry it)."""

    http_status = 401
    code = "unauthenticated"


class PermissionDenied(TracepondError):
    """A valid key whose scope or project does not allow this request: HTTP 403 / gRPC
    PERMISSION_DENIED (not retried by OTLP exporters)."""

    http_status = 403
    code = "permission_denied"


class TooManyAttempts(TracepondError):
    """Too many failed key attempts from this client address: HTTP 429 with Retry-After /
    gRPC RESOURCE_EXHAUSTED."""

    http_status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds

    @property
    def retry_after(self) -> int | None:
        return self.retry_after_seconds


class InvalidTlsConfig(TracepondError):
    """``--tls-cert`` / ``--tls-key`` / ``--tls-client-ca`` cannot be used (one given without the
    other, a file unreadable or not PEM, a key that does not match the certificate): the server
    does not start. The message names the file and its flag."""

    code = "invalid_tls_config"


class InvalidStoreConfig(TracepondError):
    """The store ``--store`` names cannot be opened as configured (its engine's optional extra
    is not installed): the server or command does not start. The message says what to
    install; it never holds the URL's password."""

    code = "invalid_store_config"
