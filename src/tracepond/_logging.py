"""Log output of ``tracepond serve``: plain text by default, one JSON object per line with
``--log-json`` / ``TRACEPOND_LOG_JSON=1`` (for log shippers: Loki, Elasticsearch, Cloud Logging).

Fields of a JSON line: ``ts`` (RFC 3339, UTC), ``level``, ``logger``, ``msg``, any ``extra``
fields of the record, and ``exc`` with the traceback when there is one.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

# Attributes every LogRecord has; anything else was passed as ``extra`` and is logged as a field.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(json_lines: bool, stream: TextIO = sys.stderr) -> None:
    """Send tracepond's logs (INFO and up) to ``stream``, as text or JSON lines."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def ready_line(fields: dict[str, Any]) -> str:
    """The start line as one JSON object (``--log-json``)."""
    line = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "INFO",
        "logger": "tracepond",
        "msg": "tracepond ready",
        **fields,
    }
    return orjson.dumps(line).decode()
