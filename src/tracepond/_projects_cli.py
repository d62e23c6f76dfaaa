"""``tracepond projects create|list``: against the store when no server runs (``--store`` /
``--db``, as ``serve`` takes them), or through a running server's API (``--url``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from tracepond._store_flags import add_store_flags, open_for_command
from tracepond.errors import TracepondError


def add_parser(commands: Any) -> None:
    projects = commands.add_parser(
        "projects",
        help="create and list projects (each holds its own traces)",
        description="Create and list projects. Spans go to a project by the"
        " x-tracepond-project header, the resource attribute tracepond.project, or `default`;"
        " a project must be created before it receives spans (docs/operate.md, Projects)."
        " With --url through a running server, else directly in the database file (stop the"
        " server first).",
        epilog="examples:\n"
        "  tracepond projects create team-a --retention 30d\n"
        "  tracepond projects list --url http://127.0.0.1:4318\n"
        "  tracepond projects set-retention team-a 7d --url http://127.0.0.1:4318",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = projects.add_subparsers(title="actions", metavar="ACTION")
    create = actions.add_parser("create", help="create a project")
    create.add_argument("name", help="lowercase letters, digits, '-' and '_' (at most 63)")
    create.add_argument("--retention", help="keep its traces this long (30d, 12h)")
    create.add_argument("--description")
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list projects with their span and trace counts")
    listing.set_defaults(handler=_list)
    retain = actions.add_parser("set-retention", help="change a project's retention")
    retain.add_argument("name")
    retain.add_argument(
        "retention",
        help="keep its traces this long (30d, 12h), 'forever', or 'default' for the server's",
    )
    retain.set_defaults(handler=_set_retention)
    for action in (create, listing, retain):
        where = action.add_mutually_exclusive_group()
        add_store_flags(where)
        where.add_argument("--url", help="a running server, e.g. http://127.0.0.1:4318")
        action.add_argument("--api-key", help="an admin key for --url (TRACEPOND_API_KEY)")
    projects.set_defaults(handler=lambda _args: projects.print_help() or 2)


def _create(args: argparse.Namespace) -> int:
    body = {"name": args.name, "retention": args.retention, "description": args.description}
    try:
        if args.url:
            project = _call(args, "POST", "/api/projects", body)
        else:
            project = _in_database(args, lambda query: _create_in(query, body))
    except TracepondError as exc:
        print(f"tracepond: {exc.message}", file=sys.stderr)
        return 1
    print(f"created project {project['name']}{_retention_text(project)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        if args.url:
            found = _call(args, "GET", "/api/projects")
        else:
            found = _in_database(args, lambda query: query.projects())
    except TracepondError as exc:
        print(f"tracepond: {exc.message}", file=sys.stderr)
        return 1
    print(f"{'NAME':<24} {'TRACES':>10} {'SPANS':>12}  RETENTION")
    for project in found["projects"]:
        retention = _retention_text(project).strip(", ") or "server default"
        line = f"{project['name']:<24} {project['trace_count']:>10} {project['span_count']:>12}"
        print(f"{line}  {retention}")
    return 0


def _set_retention(args: argparse.Namespace) -> int:
    text = args.retention
    try:
        if args.url:
            project = _call(args, "PATCH", f"/api/projects/{args.name}", {"retention": text})
        else:
            project = _in_database(args, lambda query: _set_retention_in(query, args.name, text))
    except TracepondError as exc:
        print(f"tracepond: {exc.message}", file=sys.stderr)
        return 1
    print(f"project {project['name']}: {_retention_text(project).strip(', ') or 'server default'}")
    return 0


def _set_retention_in(query: Any, name: str, text: str | None) -> dict[str, Any]:
    from tracepond.api.project_routes import retention_ns

    result: dict[str, Any] = query.set_project_retention(name, retention_ns(text))
    return result


def _create_in(query: Any, body: dict[str, Any]) -> dict[str, Any]:
    from tracepond.api.project_routes import retention_ns

    retention = retention_ns(body["retention"])
    result: dict[str, Any] = query.create_project(body["name"], body["description"], retention)
    return result


def _in_database(args: argparse.Namespace, work: Any) -> dict[str, Any]:
    from tracepond.query.service import QueryService
    from tracepond.server_settings import ServerSettings

    try:
        settings = ServerSettings.load(store=args.store, db_path=args.db)
    except ValueError as exc:
        raise TracepondError(str(exc)) from None
    store = open_for_command(
        settings, "is the server running? then pass --url instead", must_exist=False
    )
    try:
        result: dict[str, Any] = work(QueryService(store))
        return result
    finally:
        store.close()


def _call(
    args: argparse.Namespace, method: str, path: str, body: dict[str, Any] | None = None
) -> Any:
    url: str = args.url
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    key = args.api_key or os.environ.get("TRACEPOND_API_KEY")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        url.rstrip("/") + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read())["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {exc.code}"
        raise TracepondError(message) from None
    except (urllib.error.URLError, OSError) as exc:
        raise TracepondError(f"{url}: {getattr(exc, 'reason', exc)}") from None


def _retention_text(project: dict[str, Any]) -> str:
    retention = project.get("retention_ns")
    if retention is None:
        return ""
    if retention == 0:
        return ", kept forever"
    for unit, seconds in (("d", 86_400), ("h", 3_600), ("m", 60)):
        count, rest = divmod(int(retention), seconds * 10**9)
        if not rest:
            return f", retention {count}{unit}"
    return f", retention {int(retention) / 1e9:g}s"
