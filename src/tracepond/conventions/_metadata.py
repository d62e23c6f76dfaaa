"""Metadata: OpenInference's ``metadata`` JSON map merged with per-key flattened metadata
(``langsmith.metadata.*``, ``traceloop.association.properties.*``, ``mlflow.traceTag.*``,
``langfuse.{trace,observation}.metadata.*``). Flattened leaves may be JSON text (Langfuse) and are
decoded; nested Langfuse keys (``a.b``) stay dotted.
"""

from __future__ import annotations

from typing import Any

from tracepond.conventions._coerce import jsonish
from tracepond.conventions._collect import Collected
from tracepond.conventions._tables import METADATA_SKIP, METADATA_SKIP_PREFIXES


def metadata_of(found: Collected) -> dict[str, Any] | None:
    base = found.get("metadata")
    flat = found.flat_metadata()
    if not flat:
        return dict(base) if base else None
    merged: dict[str, Any] = dict(base) if base else {}
    for key, value in flat.items():
        if key not in METADATA_SKIP and not key.startswith(METADATA_SKIP_PREFIXES):
            merged.setdefault(key, jsonish(value))
    return merged or None
