"""Versioned DuckDB schema. Each migration runs once, in order, inside one transaction.

Add a migration by appending to MIGRATIONS; never edit one that has shipped. Physical storage
options (``USING COMPRESSION``) are the exception: they change how DuckDB lays a column out, not
what it holds, so databases created before such an edit keep the old layout and read the same.
"""

from __future__ import annotations

from typing import Any

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "spans and per-trace summaries",
        """
        CREATE TABLE spans (
            trace_id BLOB NOT NULL,
            span_id BLOB NOT NULL,
            parent_span_id BLOB,
            name VARCHAR NOT NULL,
            kind UTINYINT NOT NULL,
            start_ns BIGINT NOT NULL,
            end_ns BIGINT NOT NULL,
            duration_ns BIGINT NOT NULL,
            status_code UTINYINT NOT NULL,
            status_message VARCHAR,
            trace_state VARCHAR,
            flags UINTEGER,
            service_name VARCHAR NOT NULL,
            resource_json VARCHAR,
            scope_name VARCHAR,
            scope_version VARCHAR,
            scope_json VARCHAR,
            -- Uncompressed: with DuckDB's default (FSST) every full-text search decompressed
            -- ~560 bytes per span first. At 1M spans the file is ~1.9x larger (611 instead of
            -- 323 bytes per span); in exchange the full-text scan takes ~35% less time, and
            -- ingest speed did not change measurably (bench/README.md).
            attributes_json VARCHAR NOT NULL USING COMPRESSION uncompressed,
            events_json VARCHAR NOT NULL,
            links_json VARCHAR NOT NULL,
            dropped_attributes_count UINTEGER,
            dropped_events_count UINTEGER,
            dropped_links_count UINTEGER,
            truncated_json VARCHAR,
            -- The normalized view's scalar fields (tracepond.conventions); `reindex` rewrites them.
            category VARCHAR,
            model VARCHAR,
            provider VARCHAR,
            input_tokens BIGINT,
            output_tokens BIGINT,
            total_tokens BIGINT,
            cost DOUBLE,
            session_id VARCHAR,
            user_id VARCHAR,
            document_count INTEGER,
            tool_name VARCHAR,
            error_type VARCHAR,
            -- When the span was committed: strictly increasing with insertion order, so DuckDB's
            -- zone maps on it are tight and a trace's ingest window (kept in `traces`) prunes a
            -- lookup to the few row groups that can hold its spans. That is why this large
            -- table needs no index: ART indexes tripled the cost of every commit.
            ingested_ns BIGINT NOT NULL
        );
        CREATE TABLE traces (
            trace_id BLOB PRIMARY KEY,
            root_span_id BLOB,
            root_name VARCHAR NOT NULL,
            service_name VARCHAR NOT NULL,
            start_ns BIGINT NOT NULL,
            end_ns BIGINT NOT NULL,
            span_count BIGINT NOT NULL,
            error_count BIGINT NOT NULL,
            first_ingested_ns BIGINT NOT NULL,
            last_ingested_ns BIGINT NOT NULL,
            -- Totals over leaf LLM/embedding spans only, so a framework span and the provider
            -- span below it are not both counted (conventions.trace_totals).
            input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            total_tokens BIGINT NOT NULL,
            cost DOUBLE,
            models VARCHAR[] NOT NULL,
            session_id VARCHAR,
            user_id VARCHAR,
            llm_count INTEGER NOT NULL,
            tool_count INTEGER NOT NULL,
            retriever_count INTEGER NOT NULL
        );
        """,
    ),
    (
        2,
        "the whole normalized view of each span, as JSON",
        # NULL for spans stored before: readers derive their view from the raw attributes
        # until `tracepond reindex` fills it.
        "ALTER TABLE spans ADD COLUMN view_json VARCHAR",
    ),
    (
        3,
        "span origins: resource and scope JSON stored once, referenced by spans.origin_id",
        # A request's spans share a few (resource, scope) pairs; their JSON was over a quarter of
        # every span row written. Spans stored before keep theirs inline (origin_id NULL);
        # readers take whichever is there (store/_origins.py). The key is a hash of both texts
        # (ingest.decode.origin_id), so decoders need not ask the store for it.
        """
        CREATE TABLE origins (
            id BIGINT PRIMARY KEY,
            resource_json VARCHAR NOT NULL,
            scope_json VARCHAR NOT NULL
        );
        ALTER TABLE spans ADD COLUMN origin_id BIGINT;
        """,
    ),
    (
        4,
        "where each span's cost came from: sent, or computed from a price entry",
        # Before, every stored cost was one the producer sent; the LLM calls that sent none stay
        # without a cost until `tracepond reindex` computes theirs (docs/cost.md).
        """
        ALTER TABLE spans ADD COLUMN cost_source VARCHAR;
        ALTER TABLE spans ADD COLUMN cost_price VARCHAR;
        UPDATE spans SET cost_source = 'sent' WHERE cost IS NOT NULL;
        """,
    ),
    (
        5,
        "projects: every span and trace summary belongs to one project",
        # Existing data lands in `default`. A trace summary is keyed by (project, trace_id): two
        # projects sending the same trace id get two separate traces, and neither can add spans
        # to, or learn of, the other's. DuckDB cannot change a primary key in place, so the
        # summaries are copied into a new table. The extra index on trace_id alone is what trace
        # lookups use (DuckDB scans an ART index only for a single-column key); spans need
        # none: a trace's spans are found by its ingest window and filtered by project.
        """
        CREATE TABLE projects (
            name VARCHAR PRIMARY KEY,
            created_ns BIGINT NOT NULL,
            description VARCHAR,
            -- NULL: the server-wide retention applies.
            retention_ns BIGINT
        );
        INSERT INTO projects (name, created_ns) VALUES ('default', epoch_ns(now()));
        ALTER TABLE spans ADD COLUMN project VARCHAR DEFAULT 'default';
        CREATE TABLE traces_by_project (
            project VARCHAR NOT NULL,
            trace_id BLOB NOT NULL,
            root_span_id BLOB,
            root_name VARCHAR NOT NULL,
            service_name VARCHAR NOT NULL,
            start_ns BIGINT NOT NULL,
            end_ns BIGINT NOT NULL,
            span_count BIGINT NOT NULL,
            error_count BIGINT NOT NULL,
            first_ingested_ns BIGINT NOT NULL,
            last_ingested_ns BIGINT NOT NULL,
            input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            total_tokens BIGINT NOT NULL,
            cost DOUBLE,
            models VARCHAR[] NOT NULL,
            session_id VARCHAR,
            user_id VARCHAR,
            llm_count INTEGER NOT NULL,
            tool_count INTEGER NOT NULL,
            retriever_count INTEGER NOT NULL,
            PRIMARY KEY (project, trace_id)
        );
        INSERT INTO traces_by_project SELECT 'default', * FROM traces;
        DROP TABLE traces;
        ALTER TABLE traces_by_project RENAME TO traces;
        CREATE INDEX traces_trace_id ON traces (trace_id);
        """,
    ),
    (
        6,
        "API keys: only a hash of each key is stored",
        # project NULL = every project (admin keys only). last_used_ns is not written per
        # request: the server keeps last use in memory (auth/table.py).
        """
        CREATE TABLE api_keys (
            id VARCHAR PRIMARY KEY,
            name VARCHAR NOT NULL,
            project VARCHAR,
            scope VARCHAR NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
            secret_hash VARCHAR NOT NULL,
            created_ns BIGINT NOT NULL,
            expires_ns BIGINT,
            revoked_ns BIGINT,
            last_used_ns BIGINT
        );
        """,
    ),
]


def migrate(con: Any) -> int:
    """Bring the database to the newest schema; returns the version it is at."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP DEFAULT now())"
    )
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    current = int(rows[0][0])
    for version, description, sql in MIGRATIONS:
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations (version, description) VALUES (?, ?)",
                [version, description],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = version
    return current
