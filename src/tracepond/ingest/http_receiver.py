"""OTLP/HTTP receiver: ``POST /v1/traces`` (protobuf or JSON; identity, gzip or deflate).

Follows the OTLP/HTTP spec: the response uses the request's encoding; failures answer with a
``google.rpc.Status`` in that encoding; 503 carries Retry-After so exporters back off and retry.
The body is bounded before AND after decompression, so a gzip bomb costs at most the limit.
"""

from __future__ import annotations

import zlib

import orjson
from google.rpc import status_pb2
from starlette.requests import Request
from starlette.responses import Response

from tracepond.errors import (
    InvalidRequest,
    Overloaded,
    PayloadTooLarge,
    TracepondError,
    UnsupportedMediaType,
)
from tracepond.ingest.otlp_json import response_json
from tracepond.ingest.service import IngestService, response_message

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
# gRPC codes inside the Status body, matching the HTTP status.
_GRPC_CODE = {400: 3, 404: 5, 413: 8, 415: 3, 503: 14}


class HttpReceiver:
    def __init__(self, ingest: IngestService, max_body_bytes: int) -> None:
        self._ingest = ingest
        self._limit = max_body_bytes

    async def handle(self, request: Request) -> Response:
        media = _media_type(request)
        try:
            if media not in (PROTOBUF, JSON):
                raise UnsupportedMediaType(
                    f"unsupported Content-Type {media!r}: use {PROTOBUF} or {JSON}"
                )
            body = await self._read_body(request)
        except TracepondError as exc:
            self._ingest.record_bad_request("http")
            return _error(exc, media)
        try:
            outcome = await self._ingest.export(
                body, "protobuf" if media == PROTOBUF else "json", "http"
            )
        except TracepondError as exc:
            return _error(exc, media)
        if media == JSON:
            message = outcome.error_message()
            return Response(response_json(outcome.rejected, message), media_type=JSON)
        return Response(response_message(outcome).SerializeToString(), media_type=PROTOBUF)

    async def _read_body(self, request: Request) -> bytes:
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "", "gzip", "deflate"):
            raise UnsupportedMediaType(
                f"unsupported Content-Encoding {encoding!r}: use gzip, deflate or none"
            )
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self._limit:
            raise PayloadTooLarge(f"body of {declared} bytes is over the {self._limit} byte limit")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._limit:
                raise PayloadTooLarge(f"body is over the {self._limit} byte limit")
            chunks.append(chunk)
        body = b"".join(chunks)
        if encoding == "gzip":
            return self._inflate(body, zlib.MAX_WBITS | 16, "gzip")
        if encoding == "deflate":
            # HTTP "deflate" is zlib-wrapped, but raw deflate is common in the wild: accept both.
            try:
                return self._inflate(body, zlib.MAX_WBITS, "deflate")
            except InvalidRequest:
                return self._inflate(body, -zlib.MAX_WBITS, "deflate")
        return body

    def _inflate(self, body: bytes, wbits: int, name: str) -> bytes:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, self._limit + 1)
        except zlib.error as exc:
            raise InvalidRequest(f"body is not valid {name} data: {exc}") from exc
        if len(out) > self._limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"decompressed body is over the {self._limit} byte limit")
        if not inflater.eof:
            raise InvalidRequest(f"{name} body is truncated")
        return out


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _error(exc: TracepondError, media: str) -> Response:
    status = status_pb2.Status(code=_GRPC_CODE.get(exc.http_status, 13), message=exc.message)
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    elif exc.http_status == 503:
        headers["Retry-After"] = "1"
    if media == PROTOBUF:
        return Response(
            status.SerializeToString(), exc.http_status, headers=headers, media_type=PROTOBUF
        )
    body = orjson.dumps({"code": status.code, "message": status.message})
    return Response(body, exc.http_status, headers=headers, media_type=JSON)
