"""Server settings, read once at the edge: command-line flag > environment variable > default."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tracepond.ingest._limits import SpanLimits
from tracepond.store.open import StoreOptions
from tracepond.store.url import StoreUrl, parse_store_url, redact

DEFAULT_DB = "tracepond.duckdb"
DEFAULT_STORE = StoreUrl.duckdb(DEFAULT_DB)


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    grpc_port: int = 4317
    http_port: int = 4318
    # The store (store/url.py): duckdb://PATH (--db PATH for short), clickhouse://,
    # clickhouses:// or chdb:///dir. Its password is never shown (StoreUrl.display).
    store: StoreUrl = DEFAULT_STORE
    # Largest accepted request body, compressed and again after decompression.
    max_body_bytes: int = 32 * 1024 * 1024
    # Request bodies being read, inflated, decoded or waiting for their commit (HTTP and gRPC,
    # compressed and inflated bytes both count); past this, receivers answer 503 / UNAVAILABLE.
    # An empty budget always admits one request, so a body under max_body_bytes is never
    # refused forever. Every in-flight byte costs several more on its way to the store (one
    # 30 MiB request: ~190 MiB more in the server, ~250 MiB in a decode worker), so the default
    # is small: 32 concurrent 30 MiB requests peaked at 967 MiB (server + workers; 1379 MiB at
    # 64 MiB, 2581 MiB unbounded), and small requests still get many slots.
    max_inflight_bytes: int = 32 * 1024 * 1024
    # Longest request head (request line and headers) over HTTP; 431 beyond it.
    max_header_bytes: int = 64 * 1024
    # An HTTP client must send a request's headers, and then its body, within this many seconds
    # each, or its connection is closed: a client that trickles bytes cannot hold a connection.
    read_timeout_seconds: float = 30.0
    # Host names (comma separated; "*.example.com" matches subdomains) the HTTP port answers
    # besides the loopback names. Bound to loopback, only those are served (a browser page
    # cannot reach the API through DNS rebinding); bound elsewhere, any Host unless set.
    allowed_hosts: tuple[str, ...] = ()
    # TLS (docs/operate.md, "TLS"): with a certificate and its key (PEM files, the certificate
    # file may hold its chain), both ports (OTLP/gRPC; OTLP/HTTP, the API and the web view) speak
    # only TLS. Read and checked once at start; a bad pair stops the start. With a client CA,
    # every client must also present a certificate that CA signed (mutual TLS).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    # String attribute values longer than this are truncated (and the span says so).
    max_attribute_bytes: int = 4 * 1024 * 1024
    # What one span may hold (ingest/_limits.py), so that no span row is too large for the
    # database: span/event names and attribute keys longer than this are cut...
    max_name_bytes: int = 4 * 1024
    # ...a span's attributes, events and links together serialize to at most this many bytes
    # (its largest attributes are dropped first)...
    max_span_attribute_bytes: int = 8 * 1024 * 1024
    # ...an array or kvlist value keeps this many items (enough for 8k-dimension embeddings)...
    max_array_items: int = 10_000
    # ...and an attribute map (a span's, event's, link's, resource's) this many entries.
    max_span_attributes: int = 4_096
    # Spans waiting to be committed; past this, receivers answer 503 / UNAVAILABLE.
    max_queued_spans: int = 200_000
    # A commit group closes at this many spans, or when the queue runs dry.
    max_commit_spans: int = 20_000
    # DuckDB's buffer pool, shared by the writer and every query; larger queries spill to
    # <db>.tmp. Each trace-level query operator needs hash tables of a few MB per DuckDB thread
    # whatever the data's size: at 64MB, queries of three operators (`{} >> {} >> {}`) were
    # refused on a store of 500 spans; 128MB runs every query the language's limits allow.
    # It costs memory while ingesting (bench/README.md, 300k-span fills: ~545 MiB peak RSS of
    # server + workers at 128MB, ~478 at 64MB). The store raises it by itself, for the moment,
    # for a checkpoint of large values (store/_checkpoints.py).
    duckdb_memory_limit: str = "128MB"
    # Once the WAL has grown past this, the writer checkpoints (rewrites the WAL into compressed
    # row groups) at the next DuckDB row-group boundary of the spans table (store/_checkpoints.py:
    # a checkpoint that ends inside a row group makes the next one ~3x slower); DuckDB's own
    # automatic checkpoint fires at twice this as a backstop. The writer also checkpoints
    # whenever it falls idle. A checkpoint costs about the same per span whatever its size, so
    # the threshold trades how long each one stalls commits against how often: with RAG spans
    # (~120 MB of WAL per row group) 192MB checkpoints every two row groups, 0.5-0.9 s each, and
    # 256MB every three, 0.9-1.5 s (store probe, 1M spans). After a crash the WAL (up to this
    # plus one row group of spans) is replayed at the next start: 1.3 s for 243 MB, 1.9 s for
    # 350 MB here (a clean stop checkpoints first).
    duckdb_checkpoint_threshold: str = "192MB"
    duckdb_threads: int = 2
    # Worker processes that decode requests beside the server process (0 = decode in-process).
    decode_workers: int = field(default_factory=lambda: _default_decode_workers())
    # How much lower the decode workers' CPU priority is than the server's (Unix nice, 0-19).
    # The writer thread is the pipeline's one serial stage: when the workers compete with it
    # as equals, every commit is stretched and every acknowledgment waits. Lower-priority
    # workers still get every cycle the writer and the event loop leave idle (bench/README.md,
    # session 10: commits of ~1,000 spans 23-31 -> 20-24 ms; 300k-span fills 26.7k -> 28.1k
    # spans/s on the means of 11 interleaved runs each, within the VM's noise).
    decode_worker_nice: int = 10
    # Off: spans are stored with empty view columns (category, model, tokens...), to be filled
    # later by `tracepond reindex`; for measuring normalization's cost, or bursts beyond what
    # the machine can normalize. Trace views are still built on read.
    normalize_at_ingest: bool = True
    # Price overrides and custom models (YAML, docs/cost.md), before the bundled price table
    # (generated from genai-prices), for the cost of LLM calls that sent none. Read once at
    # start; a bad file stops it.
    prices_path: Path | None = None
    log_json: bool = False
    # Reads (docs/query.md, "Limits"). Each API read is stopped after this many seconds (503
    # query_timeout), and as soon as its HTTP client goes away.
    query_timeout: float = 10.0
    # Sorts and hash tables of one read spill to <db>.tmp beyond this (DuckDB's per-connection
    # operator_memory_limit), so that one query cannot take the whole buffer pool
    # (duckdb_memory_limit) from the writer and the other reads.
    query_memory_limit: str = "32MB"
    # What DuckDB may spill to <db>.tmp in all (its max_temp_directory_size); a read that needs
    # more fails with 503 query_memory_limit instead of filling the disk.
    duckdb_max_temp_size: str = "4GB"
    # The ClickHouse store (docs/clickhouse.md, docs/scale-out.md). A cluster name: replicated
    # tables created ON CLUSTER with Distributed tables over them. The insert quorum: replicas
    # that must hold an insert before it is acknowledged (a number, or auto: a majority). The
    # memory one read may use on the ClickHouse server (its max_memory_usage): ClickHouse does
    # not spill most reads to disk, so this bounds what one API request can take from the others.
    clickhouse_cluster: str | None = None
    clickhouse_insert_quorum: int | str | None = None
    clickhouse_query_memory: str = "2GB"
    # API keys (docs/operate.md, "API keys"). auto: required when bound off loopback, and on
    # loopback as soon as one key exists; on: always; off: never (off loopback, with a warning).
    auth: str = "auto"
    # /metrics needs an admin key while auth is on (it counts every project); False: open.
    metrics_auth: bool = True
    # How long a web view session (a read key exchanged for a cookie) lasts.
    session_hours: float = 12.0
    # Failed key attempts one client address may make a minute before it is answered 429.
    auth_failures_per_minute: int = 10
    # Retention and deletion (docs/operate.md, "Retention and deletion"). Traces are deleted
    # whole once their last span ended this many nanoseconds ago (None: kept forever)...
    retention_ns: int | None = None
    # ...and, past this many bytes of data (the file's blocks in use plus the WAL), the oldest
    # go until the data is under 90% of it (None: no budget).
    max_db_bytes: int | None = None
    # Seconds between purge passes (None: a minute, or a quarter of a shorter retention).
    purge_interval: float | None = None

    @classmethod
    def load(
        cls,
        env: Mapping[str, str] | None = None,
        **flags: object,
    ) -> ServerSettings:
        """Build settings from flags (None = not given), then env vars, then defaults."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for field_name, env_name, parse in _SOURCES:
            flag = flags.get(field_name)
            if flag is not None:
                values[field_name] = parse(str(flag)) if not isinstance(flag, bool) else flag
            elif env.get(env_name):
                values[field_name] = parse(env[env_name])
        unknown = set(flags) - {name for name, _, _ in _SOURCES} - {"store", "db_path"}
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        store = _store(flags.get("store"), flags.get("db_path"), env)
        if store is not None:
            values["store"] = store
        return cls(**values)  # type: ignore[arg-type]

    def span_limits(self) -> SpanLimits:
        """What one span may hold (the decoder's bounds; the store sizes its memory by them)."""
        return SpanLimits(
            max_value_bytes=self.max_attribute_bytes,
            max_name_bytes=self.max_name_bytes,
            max_span_attribute_bytes=self.max_span_attribute_bytes,
            max_array_items=self.max_array_items,
            max_attributes=self.max_span_attributes,
        )

    def store_options(self, max_row_bytes: int = 0) -> StoreOptions:
        """The store's tuning (the DuckDB store's; other stores ignore it)."""
        return StoreOptions(
            duckdb_memory_limit=self.duckdb_memory_limit,
            duckdb_threads=self.duckdb_threads,
            duckdb_checkpoint_threshold=self.duckdb_checkpoint_threshold,
            duckdb_max_temp_size=self.duckdb_max_temp_size,
            query_memory_limit=self.query_memory_limit,
            max_row_bytes=max_row_bytes,
            query_timeout=self.query_timeout,
            clickhouse_cluster=self.clickhouse_cluster,
            clickhouse_insert_quorum=self.clickhouse_insert_quorum,
            clickhouse_query_memory=self.clickhouse_query_memory,
            retention_ns=self.retention_ns,
        )


def _store(store_flag: object, db_flag: object, env: Mapping[str, str]) -> StoreUrl | None:
    """--store / --db (flags) beat TRACEPOND_STORE / TRACEPOND_DB (env); None: the default.
    ``--db PATH`` is short for ``--store duckdb://PATH``; both given must name one database."""
    from_flags = _one_store(
        None if store_flag is None else str(store_flag),
        None if db_flag is None else str(db_flag),
        ("--store", "--db"),
    )
    if from_flags is not None:
        return from_flags
    return _one_store(
        env.get("TRACEPOND_STORE") or None,
        env.get("TRACEPOND_DB") or None,
        ("TRACEPOND_STORE", "TRACEPOND_DB"),
    )


def _one_store(url: str | None, db: str | None, names: tuple[str, str]) -> StoreUrl | None:
    try:
        store = None if url is None else parse_store_url(url)
    except ValueError as exc:
        raise ValueError(f"{names[0]}: {exc}") from None
    if db is None:
        return store
    if not db.strip():
        raise ValueError(f"{names[1]}: an empty path")
    file = StoreUrl.duckdb(db)
    if store is not None and not store.same_database(file):
        raise ValueError(
            f"{names[0]} {redact(url or '')} and {names[1]} {db} name different databases;"
            f" give one ({names[1]} PATH is short for {names[0]} duckdb://PATH)"
        )
    return store or file


def _default_decode_workers() -> int:
    # Decoding is the larger share of the CPU per span, so even on 2 cores two workers beat one
    # (bench/README.md: 12.2-12.8k vs 5.8-7.1k spans/s on a loaded machine): requests finish
    # decoding together, commit groups grow, and each commit's fixed cost is shared by more
    # spans. Beyond 2 cores, one core stays with the server process (event loop, writer).
    return min(4, max(2, (os.cpu_count() or 2) - 1))


def _non_negative(text: str) -> int:
    number = int(text)
    if number < 0:
        raise ValueError(f"must be 0 or more: {number}")
    return number


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return port


def _positive(text: str) -> int:
    number = int(text)
    if number <= 0:
        raise ValueError(f"must be positive: {number}")
    return number


def _nice(text: str) -> int:
    number = int(text)
    if not 0 <= number <= 19:
        raise ValueError(f"nice must be 0 to 19: {number}")
    return number


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not 0 < seconds < 1e9:  # also refuses nan and inf
        raise ValueError(f"must be a positive number of seconds: {text}")
    return seconds


def _host_list(text: str) -> tuple[str, ...]:
    return tuple(name.strip().lower() for name in text.split(",") if name.strip())


def _retention(text: str) -> int | None:
    """A duration with a unit (30d, 12h, 90m); off, forever or 0 for no retention (None)."""
    from tracepond.query.durations import FOREVER, parse_retention

    nanoseconds = parse_retention(text)
    return None if nanoseconds == FOREVER else nanoseconds


def _size_budget(text: str) -> int | None:
    """A size (10GB, 500MiB); off or 0 for no budget."""
    from tracepond.store._checkpoints import parse_size

    text = text.strip()
    if text.lower() in {"off", "none", "0"}:
        return None
    size = parse_size(text)
    if size <= 0:
        raise ValueError(f"max database size must be positive: {text!r}")
    return size


def _cluster_name(text: str) -> str:
    """A ClickHouse cluster name as ``ON CLUSTER`` takes it unquoted."""
    name = text.strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,99}", name):
        raise ValueError(f"not a ClickHouse cluster name (letters, digits, _): {text!r}")
    return name


def _insert_quorum(text: str) -> int | str:
    """A number of replicas (at least 2: 1 is every insert's default) or ``auto``."""
    value = text.strip().lower()
    if value == "auto":
        return value
    if not value.isdigit() or int(value) < 2:
        raise ValueError(f"insert quorum: a number of replicas (2 or more) or auto: {text!r}")
    return int(value)


def _clickhouse_memory(text: str) -> str:
    from tracepond.store._checkpoints import parse_size

    if parse_size(text) <= 0:
        raise ValueError(f"ClickHouse query memory must be positive: {text!r}")
    return text.strip()


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _auth_mode(text: str) -> str:
    mode = text.strip().lower()
    if mode not in ("auto", "on", "off"):
        raise ValueError(f"auth must be auto, on or off: {text}")
    return mode


_SOURCES: list[tuple[str, str, Callable[[str], object]]] = [
    ("host", "TRACEPOND_HOST", str),
    ("grpc_port", "TRACEPOND_GRPC_PORT", _port),
    ("http_port", "TRACEPOND_HTTP_PORT", _port),
    ("max_body_bytes", "TRACEPOND_MAX_BODY_BYTES", _positive),
    ("max_inflight_bytes", "TRACEPOND_MAX_INFLIGHT_BYTES", _positive),
    ("max_header_bytes", "TRACEPOND_MAX_HEADER_BYTES", _positive),
    ("read_timeout_seconds", "TRACEPOND_READ_TIMEOUT", _positive_seconds),
    ("allowed_hosts", "TRACEPOND_ALLOWED_HOSTS", _host_list),
    ("tls_cert", "TRACEPOND_TLS_CERT", Path),
    ("tls_key", "TRACEPOND_TLS_KEY", Path),
    ("tls_client_ca", "TRACEPOND_TLS_CLIENT_CA", Path),
    ("max_attribute_bytes", "TRACEPOND_MAX_ATTRIBUTE_BYTES", _positive),
    ("max_name_bytes", "TRACEPOND_MAX_NAME_BYTES", _positive),
    ("max_span_attribute_bytes", "TRACEPOND_MAX_SPAN_ATTRIBUTE_BYTES", _positive),
    ("max_array_items", "TRACEPOND_MAX_ARRAY_ITEMS", _positive),
    ("max_span_attributes", "TRACEPOND_MAX_SPAN_ATTRIBUTES", _positive),
    ("max_queued_spans", "TRACEPOND_MAX_QUEUED_SPANS", _positive),
    ("max_commit_spans", "TRACEPOND_MAX_COMMIT_SPANS", _positive),
    ("duckdb_memory_limit", "TRACEPOND_DUCKDB_MEMORY_LIMIT", str),
    ("duckdb_threads", "TRACEPOND_DUCKDB_THREADS", _positive),
    ("duckdb_checkpoint_threshold", "TRACEPOND_DUCKDB_CHECKPOINT_THRESHOLD", str),
    ("decode_workers", "TRACEPOND_DECODE_WORKERS", _non_negative),
    ("decode_worker_nice", "TRACEPOND_DECODE_WORKER_NICE", _nice),
    ("normalize_at_ingest", "TRACEPOND_NORMALIZE_AT_INGEST", _bool),
    ("prices_path", "TRACEPOND_PRICES", Path),
    ("log_json", "TRACEPOND_LOG_JSON", _bool),
    ("query_timeout", "TRACEPOND_QUERY_TIMEOUT", _positive_seconds),
    ("query_memory_limit", "TRACEPOND_QUERY_MEMORY_LIMIT", str),
    ("duckdb_max_temp_size", "TRACEPOND_DUCKDB_MAX_TEMP_SIZE", str),
    ("clickhouse_cluster", "TRACEPOND_CLICKHOUSE_CLUSTER", _cluster_name),
    ("clickhouse_insert_quorum", "TRACEPOND_CLICKHOUSE_INSERT_QUORUM", _insert_quorum),
    ("clickhouse_query_memory", "TRACEPOND_CLICKHOUSE_QUERY_MEMORY", _clickhouse_memory),
    ("auth", "TRACEPOND_AUTH", _auth_mode),
    ("metrics_auth", "TRACEPOND_METRICS_AUTH", _bool),
    ("session_hours", "TRACEPOND_SESSION_HOURS", _positive_seconds),
    ("auth_failures_per_minute", "TRACEPOND_AUTH_FAILURES_PER_MINUTE", _positive),
    ("retention_ns", "TRACEPOND_RETENTION", _retention),
    ("max_db_bytes", "TRACEPOND_MAX_DB_SIZE", _size_budget),
    ("purge_interval", "TRACEPOND_PURGE_INTERVAL", _positive_seconds),
]
