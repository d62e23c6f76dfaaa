"""API key format, generation, hashing and lifetimes.

A key reads ``tpk_<id>_<secret>``: ``tpk_`` lets secret scanners (GitHub's, gitleaks, trufflehog
custom rules) find leaked keys with ``tpk_[0-9a-f]{12}_[0-9a-f]{64}``; the id names the key in
lists, logs and revocations without revealing it; the secret is 32 bytes from ``secrets``.

Only SHA-256 of the whole key is stored. A slow password hash (bcrypt, scrypt) exists to make
guessing a low-entropy password expensive; a 256-bit random secret cannot be guessed whatever
the hash costs, so one SHA-256 is enough, and it keeps verification cheap on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from tracepond.model.keys import KeyRecord
from tracepond.projects import is_project_name

PREFIX = "tpk_"
KEY_PATTERN = re.compile(r"tpk_([0-9a-f]{12})_([0-9a-f]{64})")
_LIFETIME = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
NS = 1_000_000_000


@dataclass(frozen=True)
class NewKey:
    """A freshly generated key: ``secret`` is shown once and never stored."""

    secret: str
    record: KeyRecord


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id(key: str) -> str | None:
    """The id of a well-formed key, None for anything else."""
    match = KEY_PATTERN.fullmatch(key)
    return match.group(1) if match else None


def matches(key: str, record: KeyRecord) -> bool:
    """Constant-time comparison of the presented key's hash with the stored one."""
    return hmac.compare_digest(hash_key(key), record.secret_hash)


MAX_NAME_CHARS = 100


def generate(
    *, name: str, project: str | None, scope: str, now_ns: int, lifetime_ns: int | None = None
) -> NewKey:
    check_grant(project, scope)
    if len(name) > MAX_NAME_CHARS or not name.isprintable():
        # It is written into every log line about the key (creation, use, deletions).
        raise ValueError(f"a key's name is at most {MAX_NAME_CHARS} printable characters")
    ident = secrets.token_hex(6)
    secret = f"{PREFIX}{ident}_{secrets.token_hex(32)}"
    record = KeyRecord(
        id=ident,
        name=name or f"key-{ident}",
        project=project,
        scope=scope,
        secret_hash=hash_key(secret),
        created_ns=now_ns,
        expires_ns=None if lifetime_ns is None else now_ns + lifetime_ns,
    )
    return NewKey(secret, record)


def check_grant(project: str | None, scope: str) -> None:
    """Raises ValueError for a scope/project pair no key may have."""
    if scope not in ("ingest", "read", "admin"):
        raise ValueError(f"scope must be ingest, read or admin, not {scope!r}")
    if project is None and scope != "admin":
        raise ValueError("only admin keys may span every project: give --project")
    if project is not None and not is_project_name(project):
        raise ValueError(
            f"invalid project name {project!r}: lowercase letters, digits, '_' and '-',"
            " starting with a letter or digit, at most 63 characters"
        )


def parse_lifetime(text: str) -> int:
    """``90d``, ``12h``, ``30m``, ``45s``, ``2w`` in nanoseconds."""
    match = _LIFETIME.fullmatch(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"invalid lifetime {text!r}: a positive number and s, m, h, d or w")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)] * NS
