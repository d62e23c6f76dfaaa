"""A session's conversation: for each trace, its first input and its last output.

The root span's own input/output is preferred (an agent's question and answer); otherwise the
first LLM input and the last LLM output of the trace, read from their normalized views.
"""

from __future__ import annotations

from typing import Any

import orjson

from tracepond.conventions import SpanInput, SpanView, normalize
from tracepond.model.records import SpanRecord


def first_input_last_output(records: list[SpanRecord]) -> tuple[Any, Any]:
    views = [(r, _view(r)) for r in records]
    roots = [(r, v) for r, v in views if r["parent_span_id"] is None]
    first_in = next((_input(v) for _, v in roots if _input(v) is not None), None)
    last_out = next((_output(v) for _, v in roots if _output(v) is not None), None)
    by_start = sorted(views, key=lambda rv: rv[0]["start_ns"])
    if first_in is None:  # a user's message beats e.g. a retriever's rewritten query
        with_messages = [v for _, v in by_start if v.input_messages]
        first_in = next(
            (_input(v) for v in with_messages + [v for _, v in by_start] if _input(v) is not None),
            None,
        )
    if last_out is None:
        by_end = sorted(views, key=lambda rv: rv[0]["end_ns"], reverse=True)
        last_out = next((_output(v) for _, v in by_end if _output(v) is not None), None)
    return first_in, last_out


def _view(record: SpanRecord) -> SpanView:
    return normalize(
        SpanInput(
            name=record["name"],
            kind=record["kind"],
            status_code=record["status_code"],
            status_message=record["status_message"] or "",
            attributes=orjson.loads(record["attributes_json"]),
            events=orjson.loads(record["events_json"]),
        )
    )


def _input(view: SpanView) -> Any:
    if view.input is not None:
        return view.input
    if view.input_messages:
        users = [m for m in view.input_messages if m.get("role") == "user"]
        return _content((users or view.input_messages)[-1])
    return None


def _output(view: SpanView) -> Any:
    if view.output is not None:
        return view.output
    if view.output_messages:
        return _content(view.output_messages[-1])
    return None


def _content(message: dict[str, Any]) -> Any:
    """The message's text: its content, or its text parts joined; else the message itself."""
    if message.get("content") is not None:
        return message["content"]
    parts = message.get("parts")
    if isinstance(parts, list):
        texts = [
            p["content"] for p in parts if isinstance(p, dict) and isinstance(p.get("content"), str)
        ]
        if texts:
            return "\n".join(texts)
    return message
