"""The memory budget of request bodies in flight, shared by the HTTP and gRPC receivers.

The write queue bounds decoded spans only; a request's body (and its inflated copy) lives in
memory from the first byte read until its spans are committed, so many large requests at once
could grow the server without limit. Each request reserves its bytes here before it holds them
and releases them when it is done, whatever the outcome; a request that does not fit is refused
with Overloaded (503 / UNAVAILABLE), which exporters retry.

An empty budget admits any one request, however large: a body under the size limit is never
refused forever. Both receivers run on the one event loop, so no lock is needed.
"""

from __future__ import annotations

from types import TracebackType

from tracepond.errors import Overloaded


class MemoryBudget:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.used = 0

    def reservation(self) -> Reservation:
        """An empty reservation; use it as a context manager so that it is always released."""
        return Reservation(self)

    def _take(self, size: int, held: int) -> None:
        """Hold ``size`` more bytes for a request that holds ``held`` already."""
        others = self.used - held
        if others and self.used + size > self.limit:
            raise Overloaded(
                f"server busy: {self.used} bytes of requests in flight, limit {self.limit};"
                " retry later"
            )
        self.used += size

    def _give_back(self, size: int) -> None:
        self.used -= size


class Reservation:
    """The bytes one request holds; grows as its body is read and inflated."""

    def __init__(self, budget: MemoryBudget) -> None:
        self._budget = budget
        self.size = 0

    def grow(self, size: int) -> None:
        """Hold ``size`` more bytes, or raise Overloaded (holding nothing more). A request
        alone in flight always may: it can never be refused for other requests' bytes."""
        self._budget._take(size, self.size)
        self.size += size

    def shrink_to(self, size: int) -> None:
        """Give back what was held beyond ``size`` bytes (a copy that was dropped)."""
        if size < self.size:
            self._budget._give_back(self.size - size)
            self.size = size

    def release(self) -> None:
        self.shrink_to(0)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
