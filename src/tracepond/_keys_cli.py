"""``tracepond keys create|list|revoke``: on the store (``--store`` / ``--db``, no server running)
or through a running server (``--url`` / TRACEPOND_URL, with an admin key: ``--api-key`` /
TRACEPOND_API_KEY). A created key is printed once, on standard output, and nowhere else."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from tracepond._store_flags import add_store_flags, open_for_command

KEYS_DESCRIPTION = """\
Create, list and revoke API keys (docs/operate.md, "API keys"). Without --url the database
file is opened directly (stop the server first, or use --url); with --url the running server
does it, given an admin key.

examples:
  tracepond keys create --project shop --scope ingest --name shop-collector --expires 90d
  tracepond keys create --scope admin --name ops
  tracepond keys list --url https://tracepond.internal:4318 --api-key "$ADMIN_KEY"
  tracepond keys revoke 3f9a0c1b2d4e
"""


def add_parser(commands: Any) -> None:
    keys = commands.add_parser(
        "keys",
        help="create, list and revoke API keys",
        description=KEYS_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = keys.add_subparsers(title="actions", metavar="ACTION")
    create = actions.add_parser("create", help="create a key and print it (shown once)")
    create.add_argument("--project", help="the key's project (required but for admin keys)")
    create.add_argument("--scope", required=True, choices=("ingest", "read", "admin"))
    create.add_argument("--name", default="", help="a name to recognize it by")
    create.add_argument("--expires", help="lifetime, e.g. 90d, 12h, 2w (default: never)")
    create.set_defaults(keys_action=_create)
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    listing.set_defaults(keys_action=_list)
    revoke = actions.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("id")
    revoke.set_defaults(keys_action=_revoke)
    for action in (create, listing, revoke):
        add_store_flags(action)
        action.add_argument("--url", help="a running server's HTTP URL (TRACEPOND_URL)")
        action.add_argument("--api-key", help="an admin key for --url (TRACEPOND_API_KEY)")
        action.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not hasattr(args, "keys_action"):
        print("tracepond keys: choose create, list or revoke", file=sys.stderr)
        return 2
    url = args.url or os.environ.get("TRACEPOND_URL")
    try:
        if url:
            return int(args.keys_action(args, _Remote(url, args.api_key)))
        with _local(args.store, args.db) as backend:
            return int(args.keys_action(args, backend))
    except _Failed as exc:
        print(f"tracepond: {exc}", file=sys.stderr)
        return 1


class _Failed(Exception):
    pass


class _Remote:
    def __init__(self, url: str, api_key: str | None) -> None:
        import httpx

        key = api_key or os.environ.get("TRACEPOND_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise _Failed(f"cannot reach the server: {exc}") from None
        data = response.json() if response.content else {}
        if response.status_code >= 400:
            error = data.get("error", {}) if isinstance(data, dict) else {}
            raise _Failed(f"{error.get('message', response.text)} (HTTP {response.status_code})")
        return data

    def create(self, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call("POST", "/api/keys", fields)
        return result

    def list(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/api/keys")["keys"])

    def revoke(self, key_id: str) -> bool:
        self.call("DELETE", f"/api/keys/{key_id}")
        return True


class _Local:
    def __init__(self, admin: Any) -> None:
        self._admin = admin

    def create(self, **fields: Any) -> dict[str, Any]:
        from tracepond.auth.admin import describe

        try:
            new = self._admin.create(**fields)
        except ValueError as exc:
            raise _Failed(str(exc)) from None
        return {"key": new.secret, **describe(new.record)}

    def list(self) -> list[dict[str, Any]]:
        from tracepond.auth.admin import describe

        return [describe(record) for record in self._admin.list()]

    def revoke(self, key_id: str) -> bool:
        return bool(self._admin.revoke(key_id))


@contextmanager
def _local(store_url: str | None, db: str | None) -> Iterator[_Local]:
    from tracepond.auth.admin import KeyAdmin
    from tracepond.errors import TracepondError
    from tracepond.server_settings import ServerSettings

    try:
        settings = ServerSettings.load(store=store_url, db_path=db)
        store = open_for_command(
            settings, "is the server running? then use --url", must_exist=False
        )
    except (TracepondError, ValueError) as exc:
        raise _Failed(str(exc)) from None
    try:
        yield _Local(KeyAdmin(store))
    finally:
        store.close()


Backend = _Local | _Remote


def _create(args: argparse.Namespace, backend: Backend) -> int:
    fields = {
        "project": args.project,
        "scope": args.scope,
        "name": args.name,
        "expires": args.expires,
    }
    created = backend.create(**fields)
    print(created["key"])
    print(
        f"created {created['scope']} key {created['id']} ({created['name']}) for"
        f" {_project(created['project'])}{_expiry(created['expires_ns'])}; it is shown only"
        " once",
        file=sys.stderr,
    )
    return 0


def _list(args: argparse.Namespace, backend: Backend) -> int:
    rows = backend.list()
    print(f"{'ID':<13} {'NAME':<24} {'PROJECT':<16} {'SCOPE':<7} {'STATE':<8} CREATED")
    for row in rows:
        print(
            f"{row['id']:<13} {row['name'][:24]:<24} {_project(row['project'])[:16]:<16}"
            f" {row['scope']:<7} {row['state']:<8} {_time(row['created_ns'])}"
        )
    return 0


def _revoke(args: argparse.Namespace, backend: Backend) -> int:
    if not backend.revoke(args.id):
        print(f"tracepond: no API key {args.id!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.id}")
    return 0


def _project(project: str | None) -> str:
    return "every project" if project is None else f"project {project}"


def _expiry(expires_ns: int | None) -> str:
    return "" if expires_ns is None else f", expiring {_time(expires_ns)}"


def _time(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M UTC")
