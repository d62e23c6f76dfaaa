"""The ``tracepond`` command line."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tracepond._version import __version__

if TYPE_CHECKING:
    from tracepond.server import TracepondServer


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracepond", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tracepond {__version__}")
    commands = parser.add_subparsers(title="commands")

    serve = commands.add_parser("serve", help="run the server (OTLP gRPC + HTTP, API, web view)")
    serve.add_argument("--host", help="address to bind (env TRACEPOND_HOST, default 127.0.0.1)")
    serve.add_argument("--grpc-port", type=int, help="OTLP/gRPC port (TRACEPOND_GRPC_PORT, 4317)")
    serve.add_argument("--http-port", type=int, help="HTTP port (TRACEPOND_HTTP_PORT, 4318)")
    serve.add_argument("--db", help="database file (TRACEPOND_DB, ./tracepond.duckdb)")
    serve.add_argument("--max-body-bytes", type=int, help="request size limit (32 MiB)")
    serve.add_argument(
        "--max-inflight-bytes",
        type=int,
        help="request bytes held at once before 503 (TRACEPOND_MAX_INFLIGHT_BYTES, 32 MiB)",
    )
    serve.add_argument("--max-header-bytes", type=int, help="HTTP request head size limit (64 KiB)")
    serve.add_argument(
        "--read-timeout",
        type=float,
        help="seconds an HTTP client has to send headers, and then the body (30)",
    )
    serve.add_argument(
        "--allowed-hosts",
        help="Host names served besides loopback ones, comma separated; *.example.com"
        " matches subdomains (TRACEPOND_ALLOWED_HOSTS)",
    )
    serve.add_argument(
        "--max-attribute-bytes", type=int, help="longest string attribute kept whole (4 MiB)"
    )
    serve.add_argument(
        "--max-name-bytes", type=int, help="longest span/event name or attribute key (4 KiB)"
    )
    serve.add_argument(
        "--max-span-attribute-bytes",
        type=int,
        help="JSON of one span's attributes, events and links together (8 MiB)",
    )
    serve.add_argument("--max-array-items", type=int, help="items kept of an array (10000)")
    serve.add_argument(
        "--max-span-attributes", type=int, help="entries kept of one attribute map (4096)"
    )
    serve.add_argument(
        "--max-queued-spans", type=int, help="spans waiting to commit before 503 (200000)"
    )
    serve.add_argument(
        "--decode-workers",
        type=int,
        help="processes decoding requests beside the server (cores - 1, 2 to 4; 0 = in-process)",
    )
    serve.add_argument(
        "--query-timeout",
        type=float,
        help="seconds a query may run before it is stopped with 503 (TRACEPOND_QUERY_TIMEOUT, 10)",
    )
    serve.add_argument(
        "--prices",
        help="YAML file of price overrides and custom models for computed costs"
        " (TRACEPOND_PRICES; docs/cost.md)",
    )
    serve.add_argument("--log-json", action="store_true", default=None, help="JSON log lines")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="once ready, fill the server with the demo agent's traces",
    )
    serve.set_defaults(handler=_serve)

    reindex = commands.add_parser(
        "reindex",
        help="recompute normalized columns and trace totals from the raw attributes",
        description="Recompute every normalized column (category, model, tokens, cost, ...) and"
        " every trace's totals from the stored raw attributes, e.g. after upgrading tracepond or"
        " changing --prices. Raw data is not touched. Stop the server first: the database is"
        " opened for writing.",
    )
    reindex.add_argument("--db", help="database file (TRACEPOND_DB, ./tracepond.duckdb)")
    reindex.add_argument(
        "--prices", help="YAML file of price overrides for computed costs (TRACEPOND_PRICES)"
    )
    reindex.set_defaults(handler=_reindex)

    demo = commands.add_parser("demo", help="run the demo RAG agent against a running server")
    demo.add_argument(
        "--endpoint",
        default=None,
        help="server URL (OTEL_EXPORTER_OTLP_ENDPOINT, default http://127.0.0.1:4318)",
    )
    demo.set_defaults(handler=_demo)

    from tracepond import _export

    _export.add_parser(commands, _progress_bar)
    return parser


def _serve(args: argparse.Namespace) -> int:
    from tracepond._arrow import settle_pandas_probe

    settle_pandas_probe()  # before the server's modules make their first Arrow values
    from tracepond._logging import configure as configure_logging
    from tracepond.errors import TracepondError
    from tracepond.server import serve
    from tracepond.settings import Settings

    try:
        settings = Settings.load(
            host=args.host,
            grpc_port=args.grpc_port,
            http_port=args.http_port,
            db_path=args.db,
            max_body_bytes=args.max_body_bytes,
            max_inflight_bytes=args.max_inflight_bytes,
            max_header_bytes=args.max_header_bytes,
            read_timeout_seconds=args.read_timeout,
            allowed_hosts=args.allowed_hosts,
            max_attribute_bytes=args.max_attribute_bytes,
            max_name_bytes=args.max_name_bytes,
            max_span_attribute_bytes=args.max_span_attribute_bytes,
            max_array_items=args.max_array_items,
            max_span_attributes=args.max_span_attributes,
            max_queued_spans=args.max_queued_spans,
            decode_workers=args.decode_workers,
            log_json=args.log_json,
            query_timeout=args.query_timeout,
            prices_path=args.prices,
        )
    except ValueError as exc:
        print(f"tracepond: invalid setting: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_json)
    try:
        serve(settings, on_ready=_start_demo if args.demo else None)
    except (TracepondError, OSError) as exc:
        print(f"tracepond: {exc}", file=sys.stderr)
        return 1
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from tracepond.errors import TracepondError
    from tracepond.price_file import load_price_table
    from tracepond.reindex import reindex
    from tracepond.settings import Settings
    from tracepond.store.duckdb_store import DuckDBStore

    settings = Settings.load(db_path=args.db, prices_path=args.prices)
    if not settings.db_path.exists():
        print(f"tracepond: no database at {settings.db_path}", file=sys.stderr)
        return 1
    try:
        prices = load_price_table(settings.prices_path)
    except TracepondError as exc:
        print(f"tracepond: {exc}", file=sys.stderr)
        return 1
    try:
        store = DuckDBStore(settings.db_path, memory_limit=settings.duckdb_memory_limit)
    except TracepondError as exc:
        print(f"tracepond: {exc} (is the server still running?)", file=sys.stderr)
        return 1
    try:
        spans, traces = reindex(store, _progress_bar, prices)
    finally:
        store.close()
    print(f"reindexed {spans} spans and {traces} traces in {settings.db_path}")
    return 0


def _progress_bar(what: str, done: int, total: int) -> None:
    width = 30
    filled = width * done // total if total else width
    percent = 100 * done // total if total else 100
    bar = "#" * filled + "-" * (width - filled)
    end = "\n" if done >= total else ""
    print(f"\r{what:>6} [{bar}] {percent:3d}% {done}/{total}", end=end, file=sys.stderr, flush=True)


def _start_demo(server: TracepondServer) -> None:
    """Run the demo in a thread so the server keeps serving while it fills."""
    url = server.http_url
    threading.Thread(target=_run_demo_safely, args=(url,), name="demo", daemon=True).start()


def _run_demo_safely(endpoint: str) -> None:
    try:
        from tracepond.demo import run_demo
    except ImportError as exc:
        print(
            f"tracepond: the demo needs langchain-core ({exc}); pip install 'tracepond[langchain]'"
        )
        return
    try:
        run_demo(endpoint)
    except Exception as exc:  # the server must keep running whatever the demo does
        print(f"tracepond: demo failed: {exc!r}", flush=True)


def _demo(args: argparse.Namespace) -> int:
    endpoint = args.endpoint or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"
    )
    from tracepond.demo import run_demo

    run_demo(endpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
