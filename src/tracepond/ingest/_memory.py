"""Giving a large request's memory back to the system once it is freed.

A large request passes through a few buffers of about its size (its body, the decoded columns,
the Arrow stream between processes). Two allocators would keep that memory after it is freed:

* glibc's malloc serves a block over its mmap threshold with a mapping of its own, unmapped when
  freed, but it raises that threshold to the size of each such block freed (up to 32 MiB): after
  one 30 MiB request, 30 MiB blocks come from the heap, and a freed heap block stays with the
  process. Every process that ever handled a large request would keep its peak, the server and
  each decode worker alike, though only one request is decoded at a time (ingest/budget.py).
  A threshold set with ``mallopt`` stays where it is set.
* pyarrow's default pool (mimalloc) keeps freed pages for reuse as well; the system allocator
  (malloc, with the threshold above) gives large buffers back when they are freed. Arrow
  allocates whole columns here, not many small objects, so the faster pool buys little.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

import pyarrow as pa

# glibc's mallopt parameter number (malloc.h).
_M_MMAP_THRESHOLD = -3
# Blocks this large or larger are mapped on their own and unmapped when freed.
MMAP_THRESHOLD_BYTES = 1024 * 1024


def release_large_buffers() -> None:
    """Make this process give large freed buffers back to the system (see the module's
    docstring). Idempotent; where there is no glibc only Arrow's pool changes."""
    _fix_mmap_threshold()
    pa.set_memory_pool(pa.system_memory_pool())


def _fix_mmap_threshold() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has a no-op mallopt): nothing to fix
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
