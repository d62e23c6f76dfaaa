"""Inflating a gzip or deflate request body within a size limit.

gzip allows several members one after the other; Python's and Go's readers return them
concatenated, so this does too (concatenated OTLP protobuf messages merge into one request;
concatenated JSON documents are not JSON and are refused by the parser). Bytes after the last
member or after a deflate stream are refused: they would be silently dropped otherwise.
Decompression goes step by step, so a bomb costs at most the limit plus one step.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from tracepond.errors import InvalidRequest, PayloadTooLarge

# Output produced per call: bounds what a bomb can make before the limit is checked.
STEP_BYTES = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Compression:
    name: str
    wbits: int
    members: bool  # more than one compressed stream may follow another


GZIP = Compression("gzip", zlib.MAX_WBITS | 16, members=True)
ZLIB = Compression("deflate", zlib.MAX_WBITS, members=False)
RAW_DEFLATE = Compression("deflate", -zlib.MAX_WBITS, members=False)


def inflate(body: bytes, form: Compression, limit: int, on_output: Callable[[int], None]) -> bytes:
    """The inflated ``body``; ``on_output(n)`` is called for every ``n`` bytes produced (it may
    raise to stop). Raises InvalidRequest (corrupt, truncated, trailing bytes) or
    PayloadTooLarge (more than ``limit`` bytes inflated)."""
    pieces: list[bytes] = []
    size = 0
    pending = body
    while True:
        inflater = zlib.decompressobj(form.wbits)
        while not inflater.eof:
            try:
                piece = inflater.decompress(pending, STEP_BYTES)
            except zlib.error as exc:
                raise InvalidRequest(f"body is not valid {form.name} data: {exc}") from exc
            pending = inflater.unconsumed_tail
            if not piece and not pending and not inflater.eof:
                raise InvalidRequest(f"{form.name} body is truncated")
            size += len(piece)
            if size > limit:
                raise PayloadTooLarge(f"decompressed body is over the {limit} byte limit")
            on_output(len(piece))
            pieces.append(piece)
        pending = inflater.unused_data
        if not pending:
            return b"".join(pieces)
        if not (form.members and pending.startswith(_GZIP_MAGIC)):
            raise InvalidRequest(f"{len(pending)} byte(s) after the end of the {form.name} data")
