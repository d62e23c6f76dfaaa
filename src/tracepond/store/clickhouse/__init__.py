"""The ClickHouse store: ``SpanStore`` over a ClickHouse server or cluster, or over chdb (the
same engine in-process). Needs the optional extra: ``pip install 'tracepond[clickhouse]'``.
The design (schema, multi-writer summaries, retention, cluster mode) is in docs/clickhouse.md.
"""

from __future__ import annotations

try:
    import clickhouse_connect  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "the ClickHouse store needs clickhouse-connect: pip install 'tracepond[clickhouse]'"
        " (and chdb for chdb:/// URLs)"
    ) from exc

from tracepond.store.clickhouse.store import ClickHouseStore

__all__ = ["ClickHouseStore"]
