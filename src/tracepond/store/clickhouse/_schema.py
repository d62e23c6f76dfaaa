"""The ClickHouse schema: tables, their engines, and versioned migrations.

Every statement is generated here (``bootstrap``, ``migrations``, ``ttl_statements``): on one
node each table is a ``*MergeTree``; with a cluster each is a ``Replicated*MergeTree`` named
``<table>_local`` created ``ON CLUSTER``, with a ``Distributed`` table of the plain name over
it, sharded by ``(project, trace_id)`` so that every copy of a span and every version of a
summary lands on one shard (where ReplacingMergeTree and FINAL can fold them). Reads and
inserts use the plain names either way.

Every migration statement is idempotent (``IF NOT EXISTS``): several receivers may start on an
empty database at once, and a migration interrupted half-way is simply run again. Append
migrations; never edit one that has shipped. The design and its reasons: docs/clickhouse.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Spans: one row per (project, trace_id, span_id). The sort key serves project + time search
# (hours of start time, then trace id: a trace's spans sit together within an hour); a trace
# read names its hour range from the summary, and the bloom filter on trace_id skips granules
# when no range is known. Payload columns are ZSTD-compressed and never in a key, so list and
# search read them only when a condition names them. `version` makes the first stored copy
# win when two receivers store one span at once: it decreases with ingest time.
_SPANS_COLUMNS: Final = """
    project LowCardinality(String),
    trace_id FixedString(16),
    span_id FixedString(8),
    parent_span_id Nullable(FixedString(8)),
    name String,
    kind UInt8,
    start_ns Int64,
    end_ns Int64,
    duration_ns Int64,
    status_code UInt8,
    status_message Nullable(String),
    trace_state Nullable(String),
    flags Nullable(UInt32),
    service_name LowCardinality(String),
    origin_id Nullable(Int64),
    scope_name Nullable(String),
    scope_version Nullable(String),
    attributes_json String CODEC(ZSTD(3)),
    events_json String CODEC(ZSTD(3)),
    links_json String CODEC(ZSTD(3)),
    dropped_attributes_count Nullable(UInt32),
    dropped_events_count Nullable(UInt32),
    dropped_links_count Nullable(UInt32),
    truncated_json Nullable(String) CODEC(ZSTD(3)),
    view_json Nullable(String) CODEC(ZSTD(3)),
    category LowCardinality(Nullable(String)),
    model LowCardinality(Nullable(String)),
    provider LowCardinality(Nullable(String)),
    input_tokens Nullable(Int64),
    output_tokens Nullable(Int64),
    total_tokens Nullable(Int64),
    cost Nullable(Float64),
    cost_source LowCardinality(Nullable(String)),
    cost_price Nullable(String),
    session_id Nullable(String),
    user_id Nullable(String),
    document_count Nullable(Int32),
    tool_name Nullable(String),
    error_type Nullable(String),
    ingested_ns Int64,
    version UInt64,
    start_hour DateTime DEFAULT toStartOfHour(fromUnixTimestamp64Nano(start_ns)),
    INDEX trace_bloom trace_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX session_bloom session_id TYPE bloom_filter(0.01) GRANULARITY 1
"""
# Per-trace summaries, recomputed by the writer from all stored spans of the trace after each
# insert (store/clickhouse/_summaries.py). The version is the number of distinct spans the
# summary was computed from: spans are only ever added, so a summary over more spans is over a
# superset, and ReplacingMergeTree keeps the most complete one whoever wrote it last.
_TRACES_COLUMNS: Final = """
    project LowCardinality(String),
    trace_id FixedString(16),
    root_span_id Nullable(FixedString(8)),
    root_name String,
    service_name LowCardinality(String),
    start_ns Int64,
    end_ns Int64,
    span_count UInt64,
    error_count UInt64,
    first_ingested_ns Int64,
    last_ingested_ns Int64,
    input_tokens Int64,
    output_tokens Int64,
    total_tokens Int64,
    cost Nullable(Float64),
    models Array(String),
    session_id Nullable(String),
    user_id Nullable(String),
    llm_count Int32,
    tool_count Int32,
    retriever_count Int32,
    INDEX session_bloom session_id TYPE bloom_filter(0.01) GRANULARITY 1
"""
_ORIGINS_COLUMNS: Final = """
    id Int64,
    resource_json String CODEC(ZSTD(3)),
    scope_json String CODEC(ZSTD(3))
"""
# Projects and keys change by inserting a newer row (version `updated_ns`): no mutations.
_PROJECTS_COLUMNS: Final = """
    name String,
    created_ns Int64,
    description Nullable(String),
    retention_ns Nullable(Int64),
    updated_ns Int64
"""
_KEYS_COLUMNS: Final = """
    id String,
    name String,
    project Nullable(String),
    scope LowCardinality(String),
    secret_hash String,
    created_ns Int64,
    expires_ns Nullable(Int64),
    revoked_ns Nullable(Int64),
    updated_ns Int64
"""
# The text full-text search matches: a span's name, attributes and events, lowercased.
TEXT_EXPR: Final = "lowerUTF8(concat(name, '\\n', attributes_json, '\\n', events_json))"
# What full-text search reads (store/clickhouse/_search_sql.py): TEXT_EXPR, stored.
SEARCH_TEXT_COLUMN: Final = f"search_text String MATERIALIZED {TEXT_EXPR}"
_MIGRATIONS_COLUMNS: Final = """
    version UInt32,
    description String,
    applied_at DateTime64(3) DEFAULT now64(3)
"""


# Small granules for the tables read by key: a trace read reads one granule of every column it
# names from the summaries and a few from the spans, and a search page's previews one granule
# of the attributes per listed trace, so large granules made them decompress thousands of rows
# (of prompt-sized JSON) to return a dozen. Scans (search, stats) are not slowed measurably.
GRANULARITY: Final = {"spans": 256, "traces": 256}
# Granules of spans per n-gram filter: its 64 KiB filter then covers about 4096 spans. A search
# for a common text reads the whole index for nothing, so the index must stay small against the
# text it covers; a phrase's n-grams together keep the false positives rare even so.
TEXT_INDEX_GRANULES: Final = 16


@dataclass(frozen=True)
class Table:
    name: str
    columns: str
    engine: str  # the MergeTree family member, without its Replicated prefix
    version: str  # ReplacingMergeTree's version column ("" for none)
    order_by: str
    partition_by: str = ""
    # Whether the TTL waits until a whole part has expired and drops it (partitioned by day:
    # a day's parts go at once, with no merge rewriting rows).
    ttl_drops_parts: bool = False
    sharding_key: str = "cityHash64(project, trace_id)"
    # Rows per granule (what ClickHouse reads at least, per column, for one key lookup); 0: the
    # server's default (8192).
    granularity: int = 0


def tables() -> list[Table]:
    """Every table of schema version 1."""
    return [
        Table(
            "spans",
            _SPANS_COLUMNS,
            "ReplacingMergeTree",
            "version",
            "(project, start_hour, trace_id, span_id)",
            partition_by="toDate(fromUnixTimestamp64Nano(start_ns))",
            ttl_drops_parts=True,
            granularity=GRANULARITY["spans"],
        ),
        Table(
            "traces",
            _TRACES_COLUMNS,
            "ReplacingMergeTree",
            "span_count",
            "(project, trace_id)",
            granularity=GRANULARITY["traces"],
        ),
        Table("origins", _ORIGINS_COLUMNS, "ReplacingMergeTree", "", "id", sharding_key="id"),
        Table(
            "projects",
            _PROJECTS_COLUMNS,
            "ReplacingMergeTree",
            "updated_ns",
            "name",
            sharding_key="cityHash64(name)",
        ),
        Table(
            "api_keys",
            _KEYS_COLUMNS,
            "ReplacingMergeTree",
            "updated_ns",
            "id",
            sharding_key="cityHash64(id)",
        ),
    ]


MIGRATIONS_TABLE: Final = Table(
    "schema_migrations",
    _MIGRATIONS_COLUMNS,
    "ReplacingMergeTree",
    "",
    "version",
    sharding_key="version",
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: list[str]


def create_statements(table: Table, database: str, cluster: str | None) -> list[str]:
    """CREATE TABLE for ``table``: one MergeTree table, or with a cluster a replicated local
    table on every node and a Distributed table over them."""
    local = f"{table.name}_local" if cluster else table.name
    on_cluster = f" ON CLUSTER {_identifier(cluster)}" if cluster else ""
    args = [f"'/clickhouse/tables/{{shard}}/{database}/{local}'", "'{replica}'"] if cluster else []
    if table.version:
        args.append(table.version)
    engine = ("Replicated" if cluster else "") + table.engine + f"({', '.join(args)})"
    clauses = [f"ENGINE = {engine}"]
    if table.partition_by:
        clauses.append(f"PARTITION BY {table.partition_by}")
    clauses.append(f"ORDER BY {table.order_by}")
    settings = []
    if table.ttl_drops_parts:
        settings.append("ttl_only_drop_parts = 1")
    if table.granularity:
        settings.append(f"index_granularity = {table.granularity}")
    if settings:
        clauses.append("SETTINGS " + ", ".join(settings))
    body = "\n".join(line.rstrip() for line in table.columns.strip("\n").splitlines())
    statements = [
        f"CREATE TABLE IF NOT EXISTS {database}.{local}{on_cluster} (\n{body}\n)\n"
        + "\n".join(clauses)
    ]
    if cluster:
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {database}.{table.name}{on_cluster}"
            f" AS {database}.{local}\n"
            f"ENGINE = Distributed({_identifier(cluster)}, {database}, {local},"
            f" {table.sharding_key})"
        )
    return statements


def migrations(database: str, cluster: str | None) -> list[Migration]:
    """Every migration after the migrations table itself, in order."""
    on_cluster = f" ON CLUSTER {_identifier(cluster)}" if cluster else ""
    first = [
        statement for table in tables() for statement in create_statements(table, database, cluster)
    ]
    first.append(
        f"INSERT INTO {database}.projects (name, created_ns, updated_ns)"
        " SELECT 'default', toUnixTimestamp64Nano(now64(9)), 0"
        f" WHERE NOT EXISTS (SELECT 1 FROM {database}.projects WHERE name = 'default')"
    )
    local = "spans_local" if cluster else "spans"
    return [
        Migration(1, "spans, trace summaries, origins, projects, API keys", first),
        Migration(
            2,
            "full-text skip index: n-grams of a span's lowercased name, attributes and events",
            # Full-text search first asks this expression for the text (store/clickhouse/
            # _search_sql.py, TEXT_EXPR); an n-gram bloom filter over it lets ClickHouse skip
            # granules that cannot hold the text. Parts written before are indexed as they merge.
            [
                f"ALTER TABLE {database}.{local}{on_cluster} ADD INDEX IF NOT EXISTS text_ngrams"
                f" {TEXT_EXPR} TYPE ngrambf_v1(4, 65536, 3, 0) GRANULARITY 4",
            ],
        ),
        Migration(
            3,
            "full text reads a stored lowercase copy of a span's name, attributes and events",
            # A search for a common phrase reads every span's text: decompressing ZSTD payloads
            # and lowercasing them at read time was most of its cost. The copy is stored LZ4
            # (fast to decompress) and indexed by n-grams in place of the expression. Parts
            # written before compute it when read, and store it as they merge.
            [
                f"ALTER TABLE {database}.{local}{on_cluster} ADD COLUMN IF NOT EXISTS"
                f" {SEARCH_TEXT_COLUMN} CODEC(LZ4)",
                *(
                    # The Distributed table stores nothing: the column without a codec.
                    [
                        f"ALTER TABLE {database}.spans{on_cluster} ADD COLUMN IF NOT EXISTS"
                        f" {SEARCH_TEXT_COLUMN}"
                    ]
                    if cluster
                    else []
                ),
                f"ALTER TABLE {database}.{local}{on_cluster} DROP INDEX IF EXISTS text_ngrams",
                f"ALTER TABLE {database}.{local}{on_cluster} ADD INDEX IF NOT EXISTS"
                f" search_text_ngrams search_text TYPE ngrambf_v1(4, 65536, 3, 0)"
                f" GRANULARITY {TEXT_INDEX_GRANULES}",
            ],
        ),
    ]


def ttl_statements(database: str, cluster: str | None, ttl_days: int) -> list[str]:
    """The server-wide retention as table TTLs, set at every start (the same statement twice
    changes nothing): spans go with their whole day partition once the day is ``ttl_days``
    old; summaries (not partitioned: a summary's times change as spans arrive) row by row,
    ``ttl_days`` after the trace ended."""
    days = int(ttl_days)
    if days <= 0:
        raise ValueError(f"a TTL is a positive number of days, not {ttl_days!r}")
    on_cluster = f" ON CLUSTER {_identifier(cluster)}" if cluster else ""
    suffix = "_local" if cluster else ""
    return [
        f"ALTER TABLE {database}.spans{suffix}{on_cluster} MODIFY TTL"
        f" toDate(fromUnixTimestamp64Nano(start_ns)) + INTERVAL {days + 1} DAY",
        f"ALTER TABLE {database}.traces{suffix}{on_cluster} MODIFY TTL"
        f" toDateTime(fromUnixTimestamp64Nano(end_ns)) + INTERVAL {days} DAY",
    ]


def bootstrap(database: str, cluster: str | None) -> list[str]:
    """The database and the table that records applied migrations."""
    on_cluster = f" ON CLUSTER {_identifier(cluster)}" if cluster else ""
    return [
        f"CREATE DATABASE IF NOT EXISTS {database}{on_cluster}",
        *create_statements(MIGRATIONS_TABLE, database, cluster),
    ]


def all_statements(database: str, cluster: str | None, ttl_days: int | None = None) -> str:
    """Every DDL statement of a fresh database, in order, as one text (the snapshot tests
    compare it with a checked-in copy)."""
    blocks = [f"{statement};" for statement in bootstrap(database, cluster)]
    for migration in migrations(database, cluster):
        blocks.append(f"-- migration {migration.version}: {migration.description}")
        blocks += [f"{statement};" for statement in migration.statements]
    if ttl_days is not None:
        blocks.append(f"-- retention: {ttl_days} days")
        blocks += [f"{statement};" for statement in ttl_statements(database, cluster, ttl_days)]
    return "\n\n".join(blocks) + "\n"


def _identifier(name: str | None) -> str:
    if not name or not name.replace("_", "").replace("-", "").isalnum() or not name.isascii():
        raise ValueError(f"not a usable cluster name: {name!r}")
    return f"`{name}`"
