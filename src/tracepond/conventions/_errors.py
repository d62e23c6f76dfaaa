"""Span errors: status ERROR, ``exception`` events, ``error.type``, Langfuse ``level=ERROR``.

Any one of these marks the span failed (pitfall 20: status may stay UNSET when the failure is
recorded only as an event). Type precedence: exception event > ``error.type`` > the ``<Type>:``
prefix of the status message that OTel's ``use_span`` writes. Message precedence: exception
event > Langfuse ``status_message`` > span status message.
"""

from __future__ import annotations

import re
from typing import Any

from tracepond.conventions._coerce import to_str
from tracepond.conventions._collect import Collected
from tracepond.conventions._model import ErrorInfo
from tracepond.conventions._tables import EXCEPTION_EVENT

STATUS_ERROR = 2
_TYPE_PREFIX = re.compile(r"^([A-Za-z_][\w.]{0,200}): ")


def span_error(
    found: Collected, status_error: bool, status_message: Any, events: list[dict[str, Any]]
) -> ErrorInfo | None:
    exc_type, exc_message = _exception_event(events)
    level = found.get("level")
    failed = (
        status_error
        or exc_type is not None
        or exc_message is not None
        or found.has("error_type")
        or (isinstance(level, str) and level.upper() == "ERROR")
    )
    if not failed:
        return None
    # The exception event's message is the cleanest (status messages may carry "<Type>: " or a
    # whole traceback); the status message is the fallback.
    message = exc_message or found.get("error_message") or to_str(status_message)
    error_type = exc_type or found.get("error_type") or _type_from_message(message)
    return ErrorInfo(type=_clean_type(error_type), message=message)


def _clean_type(name: str | None) -> str | None:
    # openai-v2 writes str(type(exc)): "<class 'openai.BadRequestError'>".
    if name is not None and name.startswith("<class '") and name.endswith("'>"):
        return name[8:-2] or None
    return name


def _exception_event(events: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    for event in events:
        attributes = event.get("attributes")
        if event.get("name") == EXCEPTION_EVENT and isinstance(attributes, dict):
            return to_str(attributes.get("exception.type")), to_str(
                attributes.get("exception.message")
            )
    return None, None


def _type_from_message(message: str | None) -> str | None:
    if message is None:
        return None
    match = _TYPE_PREFIX.match(message)
    return match.group(1) if match else None
