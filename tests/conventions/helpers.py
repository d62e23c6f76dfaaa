"""Tiny builders shared by the focused convention tests."""

from __future__ import annotations

from typing import Any

from tracepond.conventions import SpanInput, SpanView, normalize_strict


def view(attributes: dict[str, Any], name: str = "span", **extra: Any) -> SpanView:
    return normalize_strict(SpanInput(name=name, attributes=attributes, **extra))


def event(name: str, **attributes: Any) -> dict[str, Any]:
    return {"name": name, "time_unix_nano": 0, "attributes": attributes}


def text(role: str, content: Any) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}
