"""What a traced generator streamed: when its first chunk came, how many chunks, and its output.

A model that streams yields text pieces (tokens): the output a reader wants is the joined
text, not a list of tokens. So for a model's step (`join_text`), while every chunk is text the
pieces are joined (bounded by `max_value_size`, as every captured value is); as soon as one
chunk is not text (a dict, an object), and for every other step, the output is the list of the
first items, converted as any captured value is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from tracepond.sdk._serialize import to_jsonable

# A traced generator keeps at most this many yielded items when its output is not text.
MAX_YIELDED_ITEMS = 100
_TRUNCATION_MARK = "...[truncated {} chars]"


class Stream:
    """The chunks of one generator run. `add()` returns the seconds to the first chunk once."""

    __slots__ = (
        "_capture",
        "_chars",
        "_items",
        "_max_chars",
        "_parts",
        "_redact",
        "count",
        "started_ns",
    )

    def __init__(
        self, *, capture: bool, join_text: bool, max_chars: int, redact: Collection[str]
    ) -> None:
        self.started_ns = time.monotonic_ns()
        self.count = 0
        self._capture = capture
        self._max_chars = max_chars
        self._redact = redact
        # None once a chunk was not text, or from the start for steps that are not a model's:
        # their text items (lines, documents, events) are items, not pieces of one reply.
        self._parts: list[str] | None = [] if join_text else None
        self._chars = 0  # length of all the text, kept or not
        self._items: list[Any] = []

    def add(self, item: Any) -> float | None:
        """Record one chunk; the seconds since the stream started for the first one, else None."""
        self.count += 1
        first = (time.monotonic_ns() - self.started_ns) / 1e9 if self.count == 1 else None
        if self._capture:
            self._keep(item)
        return first

    def _keep(self, item: Any) -> None:
        if len(self._items) < MAX_YIELDED_ITEMS:
            self._items.append(to_jsonable(item, redact=self._redact, max_chars=self._max_chars))
        if self._parts is None:
            return
        text = chunk_text(item)
        if text is None:
            self._parts = None  # the output is the list of items from now on
            return
        if self._chars < self._max_chars:  # beyond it the text is only counted
            self._parts.append(text[: self._max_chars - self._chars])
        self._chars += len(text)

    @property
    def is_text(self) -> bool:
        return self._parts is not None and self.count > 0

    @property
    def items(self) -> list[Any]:
        """The first items, JSON-able (the output when the chunks are not all text)."""
        return self._items

    def text_json(self, wrap: Callable[[str], Any] = str) -> str:
        """JSON text of `wrap(joined text)` within `max_chars`.

        Unlike a cut JSON text (no longer valid JSON), the text itself is cut and marked
        (`...[truncated N chars]`), so the JSON stays whole and readers can parse it."""
        joined = "".join(self._parts or ())
        keep = len(joined)
        while True:
            cut = self._chars - keep
            text = joined[:keep] + _TRUNCATION_MARK.format(cut) if cut > 0 else joined[:keep]
            encoded = json.dumps(wrap(text), ensure_ascii=False)
            over = len(encoded) - self._max_chars
            if over <= 0 or keep == 0:
                return encoded
            # Escapes and the wrapping make the JSON longer than the text: cut that much more
            # (and a little more: the mark may grow by a digit).
            keep = max(0, keep - over - 2)


def chunk_text(chunk: Any) -> str | None:
    """The text a streamed chunk carries, or None when it is not (only) text.

    Understood: strings; message chunks with string `content` and no tool calls (LangChain's
    AIMessageChunk); OpenAI-style chat completion chunks (`choices[0].delta.content`), as
    objects or dicts."""
    if isinstance(chunk, str):
        return chunk
    if isinstance(chunk, Mapping):
        return _openai_chunk_text(chunk.get("choices"), _get_key)
    choices = getattr(chunk, "choices", None)
    if choices is not None:
        return _openai_chunk_text(choices, getattr)
    content = getattr(chunk, "content", None)
    if isinstance(content, str) and hasattr(chunk, "type"):
        if getattr(chunk, "tool_call_chunks", None) or getattr(chunk, "tool_calls", None):
            return None
        return content
    return None


def _get_key(mapping: Any, key: str, default: Any = None) -> Any:
    return mapping.get(key, default) if isinstance(mapping, Mapping) else default


def _openai_chunk_text(choices: Any, get: Any) -> str | None:
    if not isinstance(choices, Sequence) or isinstance(choices, str):
        return None
    if not choices:  # the usage chunk at the end of a stream carries no choice
        return ""
    delta = get(choices[0], "delta", None)
    if delta is None or get(delta, "tool_calls", None):
        return None
    content = get(delta, "content", None)
    if content is None:  # the role chunk and the finish chunk
        return ""
    return content if isinstance(content, str) else None
