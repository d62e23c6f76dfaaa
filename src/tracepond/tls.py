"""The server's TLS files (``--tls-cert``, ``--tls-key``, ``--tls-client-ca``), checked once.

Checked before any port is bound or the store opened, so that a bad certificate stops the start
with one sentence naming the file and its flag, and leaves nothing behind. Both ports use the
same files: the HTTP port through the `ssl` context built here, the gRPC port through
``grpc.ssl_server_credentials`` (given the PEM bytes read here). The files are read once: a
renewed certificate takes effect at the next start.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from tracepond.errors import InvalidTlsConfig

# What OpenSSL calls a private key that does not belong to the certificate.
_MISMATCH = "KEY_VALUES_MISMATCH"


@dataclass(frozen=True)
class ServerTls:
    cert_path: Path
    key_path: Path
    cert_pem: bytes  # the certificate, then its chain
    key_pem: bytes
    client_ca_path: Path | None = None
    client_ca_pem: bytes | None = None

    @property
    def mutual(self) -> bool:
        """Whether every client must present a certificate signed by the client CA."""
        return self.client_ca_pem is not None

    def http_context(self) -> ssl.SSLContext:
        """The HTTP port's context: Python's defaults for a server (TLS 1.2 and up, its cipher
        choice), the checked certificate and key, and the client CA when set."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, self.key_path, password=_no_password)
        context.set_alpn_protocols(["http/1.1"])
        if self.client_ca_path is not None:
            context.load_verify_locations(cafile=self.client_ca_path)
            context.verify_mode = ssl.CERT_REQUIRED
        return context


def load_server_tls(
    cert: Path | None, key: Path | None, client_ca: Path | None = None
) -> ServerTls | None:
    """The TLS files checked and read, or None when TLS is off (neither file given).

    Raises InvalidTlsConfig when only one of the pair is given, a file cannot be read or is not
    PEM, the key is encrypted or does not match the certificate."""
    if cert is None and key is None:
        if client_ca is not None:
            raise InvalidTlsConfig(
                f"--tls-client-ca {client_ca} needs TLS: give --tls-cert and --tls-key too"
            )
        return None
    if cert is None or key is None:
        given, missing = ("--tls-cert", "--tls-key") if key is None else ("--tls-key", "--tls-cert")
        path = cert if key is None else key
        raise InvalidTlsConfig(
            f"{given} {path} is given without {missing}: TLS needs both the certificate and its"
            f" private key (env TRACEPOND_TLS_CERT / TRACEPOND_TLS_KEY)"
        )
    cert_pem = _read(cert, "--tls-cert", "certificate")
    key_pem = _read(key, "--tls-key", "private key")
    _check_certificates(cert, "--tls-cert")
    _check_pair(cert, key)
    client_ca_pem = None
    if client_ca is not None:
        client_ca_pem = _read(client_ca, "--tls-client-ca", "client CA certificate")
        _check_certificates(client_ca, "--tls-client-ca")
    return ServerTls(cert, key, cert_pem, key_pem, client_ca, client_ca_pem)


def _read(path: Path, flag: str, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidTlsConfig(
            f"cannot read the TLS {what} {path} ({flag}): {exc.strerror or exc}"
        ) from None
    if b"-----BEGIN " not in data:
        raise InvalidTlsConfig(f"the TLS {what} {path} ({flag}) is not a PEM file")
    return data


def _check_certificates(path: Path, flag: str) -> None:
    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        raise InvalidTlsConfig(
            f"{path} ({flag}) holds no PEM certificate OpenSSL can read: {_reason(exc)}"
        ) from None


def _check_pair(cert: Path, key: Path) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key, password=_no_password)
    except _EncryptedKey:
        raise InvalidTlsConfig(
            f"the private key {key} (--tls-key) is encrypted: tracepond needs it unencrypted"
            f" (openssl pkey -in {key} -out plain.key), readable only by its user"
        ) from None
    except ssl.SSLError as exc:
        if exc.reason == _MISMATCH:
            raise InvalidTlsConfig(
                f"the private key {key} (--tls-key) does not match the certificate {cert}"
                " (--tls-cert)"
            ) from None
        raise InvalidTlsConfig(
            f"{key} (--tls-key) holds no PEM private key OpenSSL can read for the certificate"
            f" {cert} (--tls-cert): {_reason(exc)}"
        ) from None


class _EncryptedKey(Exception):
    """Raised by the password callback: OpenSSL asks for one only for an encrypted key (and
    without a callback it would prompt on the terminal)."""


def _no_password() -> str:
    raise _EncryptedKey


def _reason(exc: ssl.SSLError) -> str:
    return str(exc.reason or exc.strerror or exc)
