"""``tracepond export``: search results to Parquet or JSON Lines, read through the HTTP API.

Reading over HTTP (with :class:`tracepond.Client`) rather than opening the database works while
the server runs: DuckDB lets one process open the file. Rows are exactly the API's: trace
summaries (``/api/traces``) or, with ``--spans``, span hits (``/api/spans``), every page of the
search followed with its cursor (a snapshot, so spans arriving meanwhile do not shift pages).
JSON Lines keeps nested values (attributes, status) as objects; Parquet stores them as JSON text.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tracepond.client import APIError, Client, Page, flat_record

Progress = Callable[[str, int, int], None]


def add_parser(commands: Any, progress: Progress) -> None:
    export = commands.add_parser(
        "export",
        help="export matching traces or spans to Parquet or JSON Lines (via the HTTP API)",
        description="Export the traces (or, with --spans, the spans) matching a search to a"
        " Parquet or JSON Lines file, reading through a running server's HTTP API."
        " Filters are those of GET /api/traces (docs/query.md).",
    )
    export.add_argument("--query", "-q", help="query language, e.g. '{ status = error }'")
    export.add_argument("--text", help="full text (names, messages, documents, tool calls)")
    export.add_argument("--since", help="unix ns, ISO-8601 or a duration ago (1h)")
    export.add_argument("--until", help="unix ns, ISO-8601 or a duration ago (1h)")
    export.add_argument("--spans", action="store_true", help="export spans instead of traces")
    export.add_argument(
        "--format", choices=("parquet", "jsonl"), help="default: from the --out suffix"
    )
    export.add_argument("--out", "-o", required=True, type=Path, help="file to write")
    export.add_argument(
        "--url", default="http://127.0.0.1:4318", help="server (default http://127.0.0.1:4318)"
    )
    export.add_argument("--page-size", type=int, default=1000, help=argparse.SUPPRESS)
    export.set_defaults(handler=lambda args: run(args, progress))


def run(args: argparse.Namespace, progress: Progress) -> int:
    fmt = args.format or ("parquet" if args.out.suffix == ".parquet" else "jsonl")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            print(
                "tracepond: --format parquet needs pyarrow: pip install 'tracepond[server]'"
                " (or pip install pyarrow), or use --format jsonl",
                file=sys.stderr,
            )
            return 2
    client = Client(args.url)
    what = "spans" if args.spans else "traces"
    filters: dict[str, Any] = {k: v for k in ("since", "until") if (v := getattr(args, k))}
    pages: Iterator[Page[Any]]
    if args.spans:
        pages = client.span_pages(args.query, text=args.text, page_size=args.page_size, **filters)
    else:
        pages = client.trace_pages(args.query, text=args.text, page_size=args.page_size, **filters)
    try:
        rows = _write(pages, args.out, fmt, what, progress)
    except APIError as exc:
        print(f"tracepond: {_describe(exc, args.query)}", file=sys.stderr)
        return 2 if exc.status == 400 else 1
    print(f"exported {rows} {what} to {args.out}", file=sys.stderr)
    return 0


def _write(pages: Iterator[Page[Any]], out: Path, fmt: str, what: str, progress: Progress) -> int:
    tmp = out.with_name(out.name + ".partial")
    try:
        return _write_pages(pages, tmp, out, fmt, what, progress)
    finally:
        tmp.unlink(missing_ok=True)


def _write_pages(
    pages: Iterator[Page[Any]], tmp: Path, out: Path, fmt: str, what: str, progress: Progress
) -> int:
    done = 0
    records: list[dict[str, Any]] = []
    with tmp.open("w", encoding="utf-8") as lines:
        for page in pages:
            page_records = page.records()
            if fmt == "jsonl":
                for record in page_records:
                    lines.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                records.extend(flat_record(r) for r in page_records)
            done += len(page_records)
            # The count is capped (10,000): past it the bar only says how many so far.
            total = max(page.count or 0, done) if page.next_cursor else done
            progress(what, done, total)
    if fmt == "parquet":
        _write_parquet(records, tmp)
    tmp.replace(out)
    return done


def _write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), path)


def _describe(exc: APIError, query: str | None) -> str:
    if exc.position is None or query is None:
        return exc.message
    return f"{exc.message}\n  {query}\n  {' ' * exc.position}^"
