"""Fast JSON responses, including trees deeper than orjson's nesting limit."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


def json_response(content: Any, status_code: int = 200) -> Response:
    return Response(dumps(content), status_code, media_type="application/json")


def dumps(content: Any) -> bytes:
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError as exc:
        if "Recursion limit" not in str(exc):
            raise
        return _dumps_deep(content)


def _dumps_deep(content: Any) -> bytes:
    """Serialize nested ``children`` lists without recursion (a parent chain can be 50k deep).

    Each node is dumped without its children by orjson; the children arrays are spliced in from
    an explicit stack.
    """
    out: list[bytes] = []
    # Work items: a node to open, or raw bytes to emit.
    stack: list[Any] = [content]
    while stack:
        item = stack.pop()
        if isinstance(item, _Raw):
            out.append(item.data)
        elif isinstance(item, dict) and isinstance(item.get("children"), list):
            children = item["children"]
            head = orjson.dumps({k: v for k, v in item.items() if k != "children"})
            out.append(head[:-1] + (b',"children":[' if len(head) > 2 else b'"children":['))
            stack.append(_Raw(b"]}"))
            for index in range(len(children) - 1, -1, -1):
                stack.append(children[index])
                if index:
                    stack.append(_Raw(b","))
        elif isinstance(item, dict):
            keys = list(item)
            out.append(b"{")
            stack.append(_Raw(b"}"))
            for index in range(len(keys) - 1, -1, -1):
                stack.append(item[keys[index]])
                prefix = orjson.dumps(keys[index]) + b":"
                stack.append(_Raw((b"," if index else b"") + prefix))
        elif isinstance(item, list):
            out.append(b"[")
            stack.append(_Raw(b"]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append(item[index])
                if index:
                    stack.append(_Raw(b","))
        else:
            out.append(orjson.dumps(item))
    return b"".join(out)


class _Raw:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data
