"""A TLS configuration that cannot work stops the start: one line naming the file and its flag,
a non-zero exit, no traceback, no database files (the files are checked before any port is bound
or the store opened), and never a password prompt for an encrypted key."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import clean_env, tracepond_command

from .certs import Certs

WAIT = 60.0

# case -> (flags and env made from the certificates, words the message must hold)
Case = Callable[[Certs, Path], tuple[list[str], dict[str, str], list[str]]]
CASES: dict[str, Case] = {
    "cert without key": lambda c, _: (
        ["--tls-cert", str(c.server_cert)],
        {},
        ["--tls-cert", str(c.server_cert), "without --tls-key"],
    ),
    "key without cert (env)": lambda c, _: (
        [],
        {"TRACEPOND_TLS_KEY": str(c.server_key)},
        ["--tls-key", str(c.server_key), "without --tls-cert"],
    ),
    "unreadable cert": lambda c, tmp: (
        ["--tls-cert", str(tmp / "missing.pem"), "--tls-key", str(c.server_key)],
        {},
        ["cannot read", str(tmp / "missing.pem"), "--tls-cert", "No such file"],
    ),
    "key of another certificate": lambda c, _: (
        ["--tls-cert", str(c.server_cert), "--tls-key", str(c.client_key)],
        {},
        ["does not match", str(c.client_key), "--tls-key", str(c.server_cert)],
    ),
    "cert and key swapped": lambda c, _: (
        ["--tls-cert", str(c.server_key), "--tls-key", str(c.server_cert)],
        {},
        [str(c.server_key), "--tls-cert", "no PEM certificate"],
    ),
    "client CA without TLS": lambda c, _: (
        ["--tls-client-ca", str(c.ca)],
        {},
        ["--tls-client-ca", str(c.ca), "--tls-cert and --tls-key"],
    ),
    "encrypted key": lambda c, tmp: (
        ["--tls-cert", str(c.server_cert), "--tls-key", str(encrypted(c.server_key, tmp))],
        {},
        ["encrypted", str(tmp / "encrypted.key"), "--tls-key"],
    ),
}


def encrypted(key: Path, directory: Path) -> Path:
    out = directory / "encrypted.key"
    subprocess.run(
        [
            "openssl",
            "pkey",
            "-in",
            str(key),
            "-aes256",
            "-passout",
            "pass:secret",
            "-out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_tls_configuration_stops_the_start(certs: Certs, tmp_path: Path, case: str) -> None:
    flags, env, words = CASES[case](certs, tmp_path)
    folder = tmp_path / "db"
    folder.mkdir()
    command = tracepond_command(
        "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0",
        "--db", str(folder / "tracepond.duckdb"), *flags,
    )  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=WAIT,
        env=clean_env(env),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    message = done.stderr.strip()
    assert message.startswith("tracepond: ") and "\n" not in message, message
    for word in words:
        assert word in message, (word, message)
    assert "Traceback" not in done.stderr
    assert "tracepond ready" not in done.stdout
    assert list(folder.iterdir()) == [], "a failed start left database files"
