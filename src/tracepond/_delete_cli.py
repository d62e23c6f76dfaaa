"""``tracepond delete``: one trace, or every trace of a query, a user or a session.

Through a running server (``--url``: the admin API, docs/operate.md) or, with the server
stopped, on the store itself (``--store`` URL, or ``--db`` file)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import httpx

from tracepond._auth_flags import add_auth_flags
from tracepond.projects import DEFAULT_PROJECT

DESCRIPTION = """\
Delete traces with all their spans: one trace (--trace), or every trace matching a search
(--query, --user, --session; given together they must all match). Through a running server's
API (--url, the default) or, with the server stopped, directly in the store (--store URL, or
--db for a DuckDB file).
Prints how many traces were deleted. A deletion stopped midway has deleted part of them: run
it again to delete the rest.

examples:
  tracepond delete --user alice@example.com
  tracepond delete --session 7f3c2a --url http://tracepond.internal:4318
  tracepond delete -q '{ attr.customer = "acme" }' --db /var/lib/tracepond/traces.duckdb
  tracepond delete --trace 5b8efff798038103d269b633813fc60c
"""


def add_parser(commands: Any) -> None:
    delete = commands.add_parser(
        "delete",
        help="delete one trace, or every trace of a query, user or session",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    delete.add_argument("--trace", help="the id of one trace (32 hex characters)")
    delete.add_argument("--query", "-q", help="query language, e.g. '{ status = error }'")
    delete.add_argument("--user", help="every trace of this user id")
    delete.add_argument("--session", help="every trace of this session id")
    add_auth_flags(delete)
    where = delete.add_mutually_exclusive_group()
    where.add_argument("--url", help="a running server (default http://127.0.0.1:4318)")
    where.add_argument(
        "--store", help="the store itself, with the server stopped (a URL, as serve takes it)"
    )
    where.add_argument("--db", help="the database file, with the server stopped")
    delete.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    searched = [args.query, args.user, args.session]
    if (args.trace is None) == all(value is None for value in searched):
        print("tracepond: give --trace, or any of --query/--user/--session", file=sys.stderr)
        return 2
    try:
        deleted = _direct(args) if args.db or args.store else _through_server(args)
    except DeleteFailed as exc:
        print(f"tracepond: {exc}", file=sys.stderr)
        return 1
    print(f"deleted {deleted} traces")
    return 0


class DeleteFailed(Exception):
    pass


def _project(args: argparse.Namespace) -> str:
    return args.project or os.environ.get("TRACEPOND_PROJECT") or DEFAULT_PROJECT


def _search_params(args: argparse.Namespace) -> dict[str, str]:
    params = {"q": args.query, "user_id": args.user, "session_id": args.session}
    found = {name: value for name, value in params.items() if value is not None}
    return {**found, "project": _project(args)}


def _headers(args: argparse.Namespace) -> dict[str, str]:
    key = args.api_key or os.environ.get("TRACEPOND_API_KEY")
    return {"authorization": f"Bearer {key}"} if key else {}


def _through_server(args: argparse.Namespace) -> int:
    url = (args.url or "http://127.0.0.1:4318").rstrip("/")
    try:
        verify = args.ca_file or True
        with httpx.Client(
            base_url=url, timeout=None, headers=_headers(args), verify=verify
        ) as client:
            if args.trace is not None:
                params = {"project": _project(args)}
                response = client.delete(f"/api/traces/{args.trace}", params=params)
                if response.status_code == 404:
                    return 0
            else:
                response = client.post("/api/traces/delete", params=_search_params(args))
    except httpx.HTTPError as exc:
        raise DeleteFailed(f"cannot reach {url}: {exc}") from exc
    if response.status_code != 200:
        raise DeleteFailed(f"the server refused ({response.status_code}): {_message(response)}")
    return int(response.json()["deleted"])


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except Exception:
        return response.text[:500]


def _direct(args: argparse.Namespace) -> int:
    from tracepond._store_flags import open_for_command
    from tracepond.errors import TracepondError
    from tracepond.model.filters import Filters
    from tracepond.query._render import parse_hex_id
    from tracepond.query.filters import parse_query
    from tracepond.retention.deleter import (
        InlineWriter,
        Requester,
        TraceDeleter,
        describe_filters,
    )
    from tracepond.server_settings import ServerSettings

    try:
        settings = ServerSettings.load(store=args.store, db_path=args.db)
        store = open_for_command(settings, "is the server still running?")
    except (TracepondError, ValueError) as exc:
        raise DeleteFailed(str(exc)) from exc
    try:
        deleter = TraceDeleter(store, InlineWriter())
        requester = Requester(key_name="cli")
        if args.trace is not None:
            trace = parse_hex_id(args.trace, 16, "trace_id")
            return deleter.delete_trace(_project(args), trace, requester)
        filters = Filters(
            query=parse_query(args.query),
            user_id=args.user,
            session_id=args.session,
            project=_project(args),
        )
        return deleter.delete_matching(filters, requester, describe_filters(filters, args.query))
    except TracepondError as exc:
        raise DeleteFailed(str(exc)) from exc
    finally:
        store.close()
