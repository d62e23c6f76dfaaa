"""Where the spans of a set of traces are (start hours, ingest times), from their summaries:
what bounds a semi-join over the spans to the primary-index ranges of its candidate traces."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tracepond.store.clickhouse._params import Params
from tracepond.store.clickhouse._sql import run, start_range


@dataclass(frozen=True)
class Window:
    """Where the spans of a set of traces are: start hours and ingest times."""

    low_ns: int
    high_ns: int
    first_ingested: int
    last_ingested: int
    newest_start_ns: int

    def until(self, as_of: int) -> Window:
        return replace(self, last_ingested=min(self.last_ingested, as_of))

    def sql(self, p: Params, project: str, alias: str = "") -> str:
        return (
            f"{alias}project = {p.add(project)}"
            f" AND {start_range(alias, p.add(self.low_ns), p.add(self.high_ns))}"
            f" AND {alias}ingested_ns BETWEEN {p.add(self.first_ingested)}"
            f" AND {p.add(self.last_ingested)}"
        )


def window(client: Any, db: str, trace_where: list[str], p: Params) -> Window | None:
    where = " AND ".join(trace_where) or "true"
    sql = (
        "SELECT min(t.start_ns), max(t.end_ns), min(t.first_ingested_ns),"
        f" max(t.last_ingested_ns), max(t.start_ns), count() FROM {db}.traces AS t FINAL"
        f" WHERE {where}"
    )
    row = run(client, sql, p)[1][0]
    if not row[5]:
        return None
    return Window(*(int(value) for value in row[:5]))
