CREATE DATABASE IF NOT EXISTS tracepond;

CREATE TABLE IF NOT EXISTS tracepond.schema_migrations (
    version UInt32,
    description String,
    applied_at DateTime64(3) DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree()
ORDER BY version;

-- migration 1: spans, trace summaries, origins, projects, API keys

CREATE TABLE IF NOT EXISTS tracepond.spans (
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
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toDate(fromUnixTimestamp64Nano(start_ns))
ORDER BY (project, start_hour, trace_id, span_id)
SETTINGS ttl_only_drop_parts = 1, index_granularity = 256;

CREATE TABLE IF NOT EXISTS tracepond.traces (
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
)
ENGINE = ReplacingMergeTree(span_count)
ORDER BY (project, trace_id)
SETTINGS index_granularity = 256;

CREATE TABLE IF NOT EXISTS tracepond.origins (
    id Int64,
    resource_json String CODEC(ZSTD(3)),
    scope_json String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree()
ORDER BY id;

CREATE TABLE IF NOT EXISTS tracepond.projects (
    name String,
    created_ns Int64,
    description Nullable(String),
    retention_ns Nullable(Int64),
    updated_ns Int64
)
ENGINE = ReplacingMergeTree(updated_ns)
ORDER BY name;

CREATE TABLE IF NOT EXISTS tracepond.api_keys (
    id String,
    name String,
    project Nullable(String),
    scope LowCardinality(String),
    secret_hash String,
    created_ns Int64,
    expires_ns Nullable(Int64),
    revoked_ns Nullable(Int64),
    updated_ns Int64
)
ENGINE = ReplacingMergeTree(updated_ns)
ORDER BY id;

INSERT INTO tracepond.projects (name, created_ns, updated_ns) SELECT 'default', toUnixTimestamp64Nano(now64(9)), 0 WHERE NOT EXISTS (SELECT 1 FROM tracepond.projects WHERE name = 'default');

-- migration 2: full-text skip index: n-grams of a span's lowercased name, attributes and events

ALTER TABLE tracepond.spans ADD INDEX IF NOT EXISTS text_ngrams lowerUTF8(concat(name, '\n', attributes_json, '\n', events_json)) TYPE ngrambf_v1(4, 65536, 3, 0) GRANULARITY 4;

-- migration 3: full text reads a stored lowercase copy of a span's name, attributes and events

ALTER TABLE tracepond.spans ADD COLUMN IF NOT EXISTS search_text String MATERIALIZED lowerUTF8(concat(name, '\n', attributes_json, '\n', events_json)) CODEC(LZ4);

ALTER TABLE tracepond.spans DROP INDEX IF EXISTS text_ngrams;

ALTER TABLE tracepond.spans ADD INDEX IF NOT EXISTS search_text_ngrams search_text TYPE ngrambf_v1(4, 65536, 3, 0) GRANULARITY 16;
