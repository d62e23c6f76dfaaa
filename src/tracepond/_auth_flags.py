"""The flags of every CLI command that talks to a server: which API key, project and CA.

Each defaults to None, so that the SDK / `tracepond.Client` apply their own fallbacks: the
`TRACEPOND_API_KEY` and `TRACEPOND_PROJECT` variables, and for the CA the system's (or, for
OTLP, the OTel SDK's `OTEL_EXPORTER_OTLP_CERTIFICATE`).
"""

from __future__ import annotations

import argparse


def add_auth_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-key",
        default=None,
        help="API key sent as 'Authorization: Bearer <key>' (env TRACEPOND_API_KEY)",
    )
    parser.add_argument(
        "--project",
        default=None,
        help="project to send to or read from (env TRACEPOND_PROJECT; default: default)",
    )
    parser.add_argument(
        "--ca-file",
        default=None,
        help="CA certificate (PEM) to trust for an https server with a private CA",
    )
