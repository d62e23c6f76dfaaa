"""SDK settings: function argument > environment variable > default.

The standard `OTEL_*` variables choose the exporter; `TRACEPOND_*` variables control what the
decorators capture, and which API key and project the spans are sent with. A bad value in the
environment is logged and replaced by the default (the process must start); a bad value passed
as an argument raises `ValueError` from `init()`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from tracepond.projects import is_project_name

logger = logging.getLogger("tracepond")

Protocol = Literal["http/protobuf", "grpc"]

DEFAULT_HTTP_ENDPOINT = "http://localhost:4318"
DEFAULT_GRPC_ENDPOINT = "http://localhost:4317"
DEFAULT_MAX_VALUE_SIZE = 8192
_TRACES_PATH = "/v1/traces"
_PROTOCOL_ALIASES: dict[str, Protocol] = {
    "http": "http/protobuf",
    "http/protobuf": "http/protobuf",
    "grpc": "grpc",
}


# The headers tracepond sends the API key and the project in (lower case: gRPC metadata keys
# must be). A project name is the server's: lower case, digits, '_' and '-'.
AUTHORIZATION = "authorization"
PROJECT_HEADER = "x-tracepond-project"
# Header names whose values are secrets: never shown in a repr.
_SECRET_HEADERS = frozenset({AUTHORIZATION, "x-api-key", "api-key", "cookie"})


@dataclass(frozen=True)
class Settings:
    """What `tracepond.init()` resolved. Readable via `tracepond.settings()`; its repr shows
    neither the API key nor the value of an authorization header."""

    endpoint: str = DEFAULT_HTTP_ENDPOINT + _TRACES_PATH
    protocol: Protocol = "http/protobuf"
    service_name: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    capture_content: bool = True
    max_value_size: int = DEFAULT_MAX_VALUE_SIZE
    redact: frozenset[str] = frozenset()
    disabled: bool = False
    # Sent as `authorization: Bearer <key>`, replacing any authorization header above.
    api_key: str | None = None
    # Sent as `x-tracepond-project` (the server's default project when None).
    project: str | None = None
    # CA certificate(s) to trust for an https endpoint (a private CA), instead of the system's.
    ca_file: str | None = None

    def export_headers(self) -> dict[str, str]:
        """The headers (gRPC metadata) every export carries: `headers` with lower-case names,
        then the API key and the project, which win over headers of the same name."""
        out = {name.lower(): value for name, value in self.headers.items()}
        if self.api_key:
            out[AUTHORIZATION] = f"Bearer {self.api_key}"
        if self.project:
            out[PROJECT_HEADER] = self.project
        return out

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "api_key" and value:
                value = "<hidden>"
            elif item.name == "headers":
                value = {
                    k: "<hidden>" if k.lower() in _SECRET_HEADERS else v for k, v in value.items()
                }
            shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"


def resolve(
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    service_name: str | None = None,
    headers: Mapping[str, str] | None = None,
    capture_content: bool | None = None,
    max_value_size: int | None = None,
    redact: Iterable[str] | None = None,
    api_key: str | None = None,
    project: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Merge arguments, environment and defaults into one Settings."""
    env = os.environ if env is None else env
    chosen_protocol = _protocol(protocol, env)
    return Settings(
        endpoint=_endpoint(endpoint, chosen_protocol, env),
        protocol=chosen_protocol,
        service_name=service_name or env.get("OTEL_SERVICE_NAME") or None,
        headers=dict(headers) if headers is not None else _env_headers(env),
        capture_content=(
            capture_content
            if capture_content is not None
            else _env_bool(env, "TRACEPOND_CAPTURE_CONTENT", True)
        ),
        max_value_size=_max_value_size(max_value_size, env),
        redact=frozenset(
            name.strip().lower()
            for name in (redact if redact is not None else _env_list(env, "TRACEPOND_REDACT"))
            if name.strip()
        ),
        disabled=_env_bool(env, "OTEL_SDK_DISABLED", False),
        api_key=_api_key(api_key, env),
        project=_project(project, env),
        ca_file=_ca_file(ca_file, env),
    )


def _protocol(argument: str | None, env: Mapping[str, str]) -> Protocol:
    if argument is not None:
        if argument.lower() not in _PROTOCOL_ALIASES:
            raise ValueError(f"protocol must be 'http' or 'grpc', not {argument!r}")
        return _PROTOCOL_ALIASES[argument.lower()]
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        value = env.get(name, "").strip().lower()
        if value in _PROTOCOL_ALIASES:
            return _PROTOCOL_ALIASES[value]
        if value:
            # http/json is a valid OTLP protocol, but the Python exporters do not speak it.
            logger.warning("tracepond: %s=%s not supported, using http/protobuf", name, value)
            return "http/protobuf"
    return "http/protobuf"


def _endpoint(argument: str | None, protocol: Protocol, env: Mapping[str, str]) -> str:
    """Per the OTLP exporter spec: the signal-specific variable is used as is, the generic one
    (and our argument, a server base URL) gets `/v1/traces` appended for HTTP."""
    if argument:
        return _with_traces_path(argument, protocol)
    specific = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if specific:
        return specific
    generic = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if generic:
        return _with_traces_path(generic, protocol)
    if protocol == "grpc":
        return DEFAULT_GRPC_ENDPOINT
    return DEFAULT_HTTP_ENDPOINT + _TRACES_PATH


def _with_traces_path(url: str, protocol: Protocol) -> str:
    if protocol == "grpc":
        return url
    if "://" not in url:
        url = "http://" + url
    if urlsplit(url).path.rstrip("/").endswith(_TRACES_PATH):
        return url
    return url.rstrip("/") + _TRACES_PATH


def _env_headers(env: Mapping[str, str]) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_(TRACES_)HEADERS: `name=value` pairs, comma separated, values
    percent-encoded per the OTLP exporter spec (`Authorization=Bearer%20tpk_...`); a plain space
    is taken too, as OTel's own SDKs do."""
    raw = env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or env.get("OTEL_EXPORTER_OTLP_HEADERS")
    headers: dict[str, str] = {}
    for pair in (raw or "").split(","):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            headers[unquote(key.strip())] = unquote(value.strip())
    return headers


def _api_key(argument: str | None, env: Mapping[str, str]) -> str | None:
    """The argument, else TRACEPOND_API_KEY; either wins over an authorization header of
    OTEL_EXPORTER_OTLP_HEADERS (which is used as is when neither is set)."""
    key = (argument if argument is not None else env.get("TRACEPOND_API_KEY", "")).strip()
    if not any(ch.isspace() or ord(ch) < 32 for ch in key):
        return key or None
    # Never the key itself in the message: it may be written to a log.
    problem = "holds a space or a control character (the key alone, without 'Bearer ')."
    if argument is not None:
        raise ValueError(f"api_key {problem}")
    logger.warning("tracepond: TRACEPOND_API_KEY %s It is not sent.", problem)
    return None


def _project(argument: str | None, env: Mapping[str, str]) -> str | None:
    if argument is not None:
        if not is_project_name(argument):
            raise ValueError(
                f"project must be lower case letters, digits, '_' or '-' (at most 63), not"
                f" {argument!r}"
            )
        return argument
    value = env.get("TRACEPOND_PROJECT", "").strip()
    if value and not is_project_name(value):
        logger.warning("tracepond: TRACEPOND_PROJECT=%r is not a project name, ignored", value)
        return None
    return value or None


def _ca_file(argument: str | os.PathLike[str] | None, env: Mapping[str, str]) -> str | None:
    """The argument, else the OTel SDK's own OTEL_EXPORTER_OTLP_(TRACES_)CERTIFICATE."""
    if argument is not None:
        path = Path(argument)
        if not path.is_file():
            raise ValueError(f"ca_file {str(path)!r} is not a readable file")
        return str(path)
    for name in ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"):
        value = env.get(name, "").strip()
        if value:
            if not Path(value).is_file():
                logger.warning("tracepond: %s=%s is not a readable file", name, value)
            return value
    return None


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    if value:
        logger.warning("tracepond: %s=%r is not a boolean, using %s", name, value, default)
    return default


def _env_list(env: Mapping[str, str], name: str) -> list[str]:
    return env.get(name, "").split(",")


def _max_value_size(argument: int | None, env: Mapping[str, str]) -> int:
    if argument is not None:
        if argument < 16:
            raise ValueError("max_value_size must be at least 16")
        return argument
    raw = env.get("TRACEPOND_MAX_VALUE_SIZE", "").strip()
    if raw:
        try:
            return max(16, int(raw))
        except ValueError:
            logger.warning("tracepond: TRACEPOND_MAX_VALUE_SIZE=%r is not an integer", raw)
    return DEFAULT_MAX_VALUE_SIZE
