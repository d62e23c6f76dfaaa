"""Typed server-side parameters: builders add values and get back ``{pN:Type}`` placeholders,
so that no value is pasted into SQL text (ClickHouse binds them on the server)."""

from __future__ import annotations

from typing import Any


def type_of(value: Any) -> str:
    """The ClickHouse type a Python value is bound as."""
    if isinstance(value, bool):
        return "Bool"
    if isinstance(value, int):
        return "Int64"
    if isinstance(value, float):
        return "Float64"
    if isinstance(value, bytes):
        return f"FixedString({len(value)})" if len(value) in (8, 16) else "String"
    if isinstance(value, (list, tuple)):
        inner = type_of(value[0]) if value else "String"
        return f"Array({inner})"
    if value is None:
        return "Nullable(String)"
    return "String"


class Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any, kind: str | None = None) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = list(value) if isinstance(value, tuple) else value
        return f"{{{name}:{kind or type_of(value)}}}"
