"""Named SQL parameters: builders add values and get back placeholders, so that no value is
ever pasted into SQL text and the order in which pieces are assembled does not matter."""

from __future__ import annotations

import re
from typing import Any


class Params:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def for_sql(self, sql: str) -> dict[str, Any]:
        """The parameters ``sql`` uses: DuckDB rejects named parameters a statement lacks."""
        used = set(_PLACEHOLDER.findall(sql))
        return {name: value for name, value in self.values.items() if name in used}


_PLACEHOLDER = re.compile(r"\$(p\d+)\b")
