"""OTLP/HTTP receiver: ``POST /v1/traces`` (protobuf or JSON; identity, gzip or deflate).

Follows the OTLP/HTTP spec: the response uses the request's encoding; failures answer with a
``google.rpc.Status`` in that encoding; 503 carries Retry-After so exporters back off and retry.
The body is bounded before AND after decompression, so a gzip bomb costs at most the limit,
and every request holds its bytes in the shared memory budget (ingest/budget.py) from before
its body is read until its spans are committed: past the budget, 503 with Retry-After.
"""

from __future__ import annotations

import logging

import orjson
from google.rpc import status_pb2
from starlette.requests import Request
from starlette.responses import Response

from tracepond.auth.principal import key_project
from tracepond.errors import (
    InvalidRequest,
    Overloaded,
    PayloadTooLarge,
    TracepondError,
    UnsupportedMediaType,
)
from tracepond.ingest._routing import project_choice
from tracepond.ingest.budget import MemoryBudget, Reservation
from tracepond.ingest.inflate import GZIP, RAW_DEFLATE, ZLIB, Compression, inflate
from tracepond.ingest.otlp_json import response_json
from tracepond.ingest.service import IngestService, response_message
from tracepond.projects import PROJECT_HEADER

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# gRPC codes inside the Status body, matching the HTTP status.
_GRPC_CODE = {400: 3, 404: 5, 413: 8, 415: 3, 503: 14}

log = logging.getLogger(__name__)


class HttpReceiver:
    def __init__(self, ingest: IngestService, max_body_bytes: int, budget: MemoryBudget) -> None:
        self._ingest = ingest
        self._limit = max_body_bytes
        self._budget = budget

    async def handle(self, request: Request) -> Response:
        media = _media_type(request)
        # Held until the spans are committed (or the request failed): the body, its inflated
        # copy and the decoded spans waiting for the writer are alive that long.
        with self._budget.reservation() as reservation:
            try:
                if media not in (PROTOBUF, JSON):
                    raise UnsupportedMediaType(
                        f"unsupported Content-Type {media!r}: use {PROTOBUF} or {JSON}"
                    )
                body = await self._read_body(request, reservation)
            except Overloaded as exc:
                self._ingest.stats.requests[("http", "refused")] += 1
                return _error(exc, media)
            except TracepondError as exc:
                self._ingest.record_bad_request("http")
                return _error(exc, media)
            # Handed over in a list that the decoder empties: the body is freed once decoded,
            # not held while the spans wait for their commit.
            held, body = [body], b""
            return await self._export(held, media, request)

    async def _export(self, body: list[bytes], media: str, request: Request) -> Response:
        try:
            project = project_choice(request.headers.get(PROJECT_HEADER), forced_project(request))
            outcome = await self._ingest.export(
                body, "protobuf" if media == PROTOBUF else "json", "http", project
            )
        except TracepondError as exc:
            return _error(exc, media)
        except Exception:
            log.exception("OTLP/HTTP export failed")
            return _error(TracepondError("internal error; nothing was stored"), media)
        if media == JSON:
            message = outcome.error_message()
            return Response(response_json(outcome.rejected, message), media_type=JSON)
        return Response(response_message(outcome).SerializeToString(), media_type=PROTOBUF)

    async def _read_body(self, request: Request, reservation: Reservation) -> bytes:
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "deflate"):
            raise UnsupportedMediaType(
                f"unsupported Content-Encoding {encoding!r}: use gzip, deflate or none"
            )
        declared = request.headers.get("content-length")
        if declared and declared.isdigit():
            if int(declared) > self._limit:
                raise PayloadTooLarge(
                    f"body of {declared} bytes is over the {self._limit} byte limit"
                )
            # Reserved before a byte is read, so a refused request never costs its body.
            reservation.grow(int(declared))
        body = await self._receive(request, reservation)
        if encoding not in ("gzip", "deflate"):
            return body
        inflated = self._inflate(body, encoding, reservation)
        # The compressed copy is dropped once inflated: only the inflated bytes stay held.
        reservation.shrink_to(reservation.size - len(body))
        return inflated

    def _inflate(self, body: bytes, encoding: str, reservation: Reservation) -> bytes:
        if encoding == "gzip":
            return self._inflate_keeping(body, reservation, GZIP)
        # HTTP "deflate" is zlib-wrapped, but raw deflate is common in the wild: accept both.
        try:
            return self._inflate_keeping(body, reservation, ZLIB)
        except InvalidRequest:
            return self._inflate_keeping(body, reservation, RAW_DEFLATE)

    async def _receive(self, request: Request, reservation: Reservation) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._limit:
                raise PayloadTooLarge(f"body is over the {self._limit} byte limit")
            if size > reservation.size:  # no Content-Length (chunked), or a short one
                reservation.grow(size - reservation.size)
            chunks.append(chunk)
        return b"".join(chunks)

    def _inflate_keeping(self, body: bytes, reservation: Reservation, form: Compression) -> bytes:
        """Inflate ``body``, holding the inflated bytes in ``reservation`` as they appear;
        on failure, what this attempt held is given back."""
        held = reservation.size
        try:
            return inflate(body, form, self._limit, reservation.grow)
        except BaseException:
            reservation.shrink_to(held)
            raise


def forced_project(request: Request) -> str | None:
    """The project the request's API key binds its spans to (None: not bound), which overrides
    the header and resource attributes. The auth middleware sets it for the request (a header
    naming another project was refused there)."""
    project = getattr(request.state, "ingest_project", None) or key_project.get()
    return project if isinstance(project, str) else None


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _error(exc: TracepondError, media: str) -> Response:
    status = status_pb2.Status(code=_GRPC_CODE.get(exc.http_status, 13), message=exc.message)
    headers = {} if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
    if media == PROTOBUF:
        return Response(
            status.SerializeToString(), exc.http_status, headers=headers, media_type=PROTOBUF
        )
    body = orjson.dumps({"code": status.code, "message": status.message})
    return Response(body, exc.http_status, headers=headers, media_type=JSON)
