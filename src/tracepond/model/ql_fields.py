"""The fields the query language knows, with their types; the store maps each to a column."""

from __future__ import annotations

from typing import Final, Literal

FieldType = Literal["string", "int", "float", "duration", "status", "kind"]

# Intrinsic and normalized span fields (docs/query.md). Anything else must be scoped:
# ``span.<attribute>``, ``resource.<attribute>`` or ``.<attribute>`` (either).
INTRINSICS: Final[dict[str, FieldType]] = {
    "name": "string",
    "status": "status",
    "status.message": "string",
    "duration": "duration",
    "kind": "kind",
    "category": "string",
    "service": "string",
    "model": "string",
    "provider": "string",
    "tokens.input": "int",
    "tokens.output": "int",
    "tokens.total": "int",
    "cost": "float",
    "documents.count": "int",
    "tool.name": "string",
    "error.type": "string",
    "session.id": "string",
    "user.id": "string",
}
STATUS_VALUES: Final = ("unset", "ok", "error")
KIND_VALUES: Final = ("unspecified", "internal", "server", "client", "producer", "consumer")
# ``resource.service.name`` is the stored service column, not a JSON lookup.
RESOURCE_COLUMNS: Final = {"service.name": "service"}
