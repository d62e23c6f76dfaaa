"""A private CA and certificates signed by it, made with the openssl command line (the recipe of
docs/operate.md, "TLS"): what a platform team does for an internal tracepond."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = "openssl"
CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Certs:
    ca: Path  # the private CA's certificate: what clients trust
    server_cert: Path  # for localhost and 127.0.0.1, signed by the CA
    server_key: Path
    client_cert: Path  # a client certificate signed by the CA (mutual TLS)
    client_key: Path
    other_ca: Path  # a second CA, which signed nothing here
    other_key: Path  # a key that belongs to no certificate here


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    openssl(
        "req", "-x509", *CURVE, "-keyout", str(key), "-out", str(cert), "-days", "2",
        "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return cert, key


def sign(directory: Path, name: str, ca: tuple[Path, Path], usage: str) -> tuple[Path, Path]:
    """A certificate for localhost / 127.0.0.1 with its key, signed by ``ca``."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    openssl(
        "req", "-x509", *CURVE, "-keyout", str(key), "-out", str(cert), "-days", "2",
        "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-subj", f"/CN={name}",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", f"extendedKeyUsage={usage}",
        cwd=directory,
    )  # fmt: skip
    return cert, key


def make_certs(directory: Path) -> Certs:
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca(directory, "test-ca")
    server = sign(directory, "server", ca, "serverAuth")
    client = sign(directory, "client", ca, "clientAuth")
    other_ca, other_key = make_ca(directory, "other-ca")
    return Certs(ca[0], server[0], server[1], client[0], client[1], other_ca, other_key)
