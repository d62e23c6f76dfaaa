"""``tracepond export``: search results to JSON Lines, JSON, CSV or Parquet, through the HTTP API.

Reading over HTTP (with :class:`tracepond.Client`) rather than opening the database works while
the server runs: DuckDB lets one process open the file. Rows are the API's, made usable as a
dataset: each trace summary (``/api/traces``) with its root span's input, output, metadata and
tags (and with ``--with-spans`` every span's normalized view), or with ``--spans`` each span hit
(``/api/spans``) with its normalized view's messages, documents and tool call. Every page of the
search is followed with its cursor (a snapshot, so spans arriving meanwhile do not shift pages).
JSON Lines and JSON keep nested values as objects; CSV and Parquet store them as JSON text.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from tracepond._auth_flags import add_auth_flags
from tracepond.client import APIError, Client, flat_record

Progress = Callable[[str, int, int], None]
# Format -> the suffixes that choose it when --format is not given.
FORMATS = {
    "jsonl": (".jsonl", ".ndjson"),
    "json": (".json",),
    "csv": (".csv",),
    "parquet": (".parquet",),
}


def add_parser(commands: Any, progress: Progress) -> None:
    export = commands.add_parser(
        "export",
        help="export matching traces or spans to JSON Lines, JSON, CSV or Parquet (via the API)",
        description="Export the traces (or, with --spans, the spans) matching a search to a"
        " JSON Lines, JSON, CSV or Parquet file, reading through a running server's HTTP API."
        " Each trace comes with its root input and output, metadata and tags (a dataset row);"
        " --with-spans adds every span's normalized view. Filters are those of GET /api/traces"
        " (docs/query.md).",
        epilog="examples:\n"
        "  tracepond export --since 24h --out traces.jsonl\n"
        "  tracepond export -q '{ status = error }' --with-spans --out failures.jsonl\n"
        "  tracepond export --spans -q '{ category = \"llm\" }' --out llm-calls.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--query", "-q", help="query language, e.g. '{ status = error }'")
    export.add_argument("--text", help="full text (names, messages, documents, tool calls)")
    export.add_argument("--since", help="unix ns, ISO-8601 or a duration ago (1h)")
    export.add_argument("--until", help="unix ns, ISO-8601 or a duration ago (1h)")
    export.add_argument(
        "--spans",
        action="store_true",
        help="export spans instead of traces (each with its messages, documents, tool call)",
    )
    export.add_argument(
        "--with-spans",
        action="store_true",
        help="each trace also lists every span's normalized view (messages, documents,"
        " tool calls, usage, cost)",
    )
    export.add_argument(
        "--format",
        choices=tuple(FORMATS),
        help="default: from the --out suffix (.jsonl/.ndjson, .json, .csv, .parquet)",
    )
    export.add_argument("--out", "-o", required=True, type=Path, help="file to write")
    export.add_argument(
        "--url", default="http://127.0.0.1:4318", help="server (default http://127.0.0.1:4318)"
    )
    add_auth_flags(export)
    export.add_argument("--page-size", type=int, default=1000, help=argparse.SUPPRESS)
    export.set_defaults(handler=lambda args: run(args, progress))


def format_for(out: Path) -> str | None:
    """The format the suffix of `out` names, or None."""
    suffix = out.suffix.lower()
    return next((fmt for fmt, suffixes in FORMATS.items() if suffix in suffixes), None)


def _unknown_format(out: Path) -> str:
    suffixes = ", ".join(s for group in FORMATS.values() for s in group)
    what = f"its suffix {out.suffix!r}" if out.suffix else "a name without a suffix"
    return (
        f"tracepond: cannot tell which format to write to {out} from {what}: name the file"
        f" with one of {suffixes}, or pass --format {{{','.join(FORMATS)}}}"
    )


def run(args: argparse.Namespace, progress: Progress) -> int:
    fmt = args.format or format_for(args.out)
    if fmt is None:
        print(_unknown_format(args.out), file=sys.stderr)
        return 2
    if args.spans and args.with_spans:
        print(
            "tracepond: --with-spans is for trace exports; --spans exports spans", file=sys.stderr
        )
        return 2
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
    what = "spans" if args.spans else "traces"
    client = Client(
        args.url, api_key=args.api_key, project=args.project, verify=args.ca_file or True
    )
    pages = _pages(client, args)
    try:
        rows = _write(pages, args.out, fmt, what, progress)
    except APIError as exc:
        print(f"tracepond: {_describe(exc, args.query)}", file=sys.stderr)
        return 2 if exc.status == 400 else 1
    print(f"exported {rows} {what} to {args.out}", file=sys.stderr)
    return 0


def _pages(client: Client, args: argparse.Namespace) -> Iterator[Rows]:
    """The export's rows, page by page: span hits with their views, or traces as dataset
    rows."""
    filters: dict[str, Any] = {k: v for k in ("since", "until") if (v := getattr(args, k))}
    search = {"text": args.text, "page_size": args.page_size, **filters}
    if args.spans:
        for spans in client.span_pages(args.query, **search):
            yield Rows(spans.records(), spans.count, spans.next_cursor)
        return
    for traces in client.trace_pages(args.query, **search):
        data = client.trace_data(traces.traces, spans=args.with_spans)
        yield Rows([row.record() for row in data], traces.count, traces.next_cursor)


class Rows(NamedTuple):
    """One page's records, with what the progress bar needs."""

    records: list[dict[str, Any]]
    total: int | None  # matches over all pages (capped), as the API counts them
    next_cursor: str | None


def _write(pages: Iterator[Rows], out: Path, fmt: str, what: str, progress: Progress) -> int:
    tmp = out.with_name(out.name + ".partial")
    try:
        return _write_pages(pages, tmp, out, fmt, what, progress)
    finally:
        tmp.unlink(missing_ok=True)


def _write_pages(
    pages: Iterator[Rows], tmp: Path, out: Path, fmt: str, what: str, progress: Progress
) -> int:
    done = 0
    records: list[dict[str, Any]] = []  # Parquet only: written at the end, as one table
    with tmp.open("w", encoding="utf-8", newline="") as file:
        writer = _writer(fmt, file)
        for page in pages:
            if fmt == "parquet":
                records.extend(flat_record(r) for r in page.records)
            else:
                for record in page.records:
                    writer(record)
            done += len(page.records)
            # The count is capped (10,000): past it the bar only says how many so far.
            total = max(page.total or 0, done) if page.next_cursor else done
            progress(what, done, total)
        if fmt == "json":
            file.write("\n]\n" if done else "]\n")
    if fmt == "parquet":
        _write_parquet(records, tmp)
    tmp.replace(out)
    return done


def _writer(fmt: str, file: IO[str]) -> Callable[[dict[str, Any]], None]:
    """Writes one record in `fmt` (Parquet: nothing, its rows are written at the end)."""
    if fmt == "jsonl":

        def write_line(record: dict[str, Any]) -> None:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")

        return write_line
    if fmt == "json":  # one array, written as the rows come
        file.write("[")
        separator = ["\n"]

        def write_json(record: dict[str, Any]) -> None:
            file.write(separator[0] + json.dumps(record, ensure_ascii=False))
            separator[0] = ",\n"

        return write_json
    if fmt == "csv":
        return _csv_writer(file)
    return lambda record: None


def _csv_writer(file: IO[str]) -> Callable[[dict[str, Any]], None]:
    """Flat columns, the header from the first row (every row of an export has the same keys);
    nested values as JSON text, null as an empty cell."""
    writer: list[csv.DictWriter[str]] = []

    def write_csv(record: dict[str, Any]) -> None:
        if not writer:
            writer.append(csv.DictWriter(file, fieldnames=list(record), extrasaction="ignore"))
            writer[0].writeheader()
        writer[0].writerow({k: _csv_cell(v) for k, v in record.items()})

    return write_csv


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=isinstance(value, dict))


def _write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), path)


def _describe(exc: APIError, query: str | None) -> str:
    if exc.position is None or query is None:
        return exc.message
    return f"{exc.message}\n  {query}\n  {' ' * exc.position}^"
