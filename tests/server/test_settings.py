"""``ServerSettings.load``: command-line flag > environment variable > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracepond.server_settings import DEFAULT_DB, ServerSettings
from tracepond.store.url import StoreUrl


def test_defaults_without_flags_or_env() -> None:
    settings = ServerSettings.load(env={})
    assert settings == ServerSettings()
    assert settings.host == "127.0.0.1"
    assert (settings.grpc_port, settings.http_port) == (4317, 4318)
    assert settings.store == StoreUrl("duckdb", path=Path(DEFAULT_DB))
    assert settings.store.path == Path("tracepond.duckdb")  # a file, not ":memory:"
    assert settings.max_body_bytes == 32 * 1024 * 1024
    assert settings.log_json is False
    assert settings.decode_worker_nice == 10


ENV = {
    "TRACEPOND_HOST": "0.0.0.0",
    "TRACEPOND_GRPC_PORT": "5317",
    "TRACEPOND_HTTP_PORT": "5318",
    "TRACEPOND_DB": "/data/env.duckdb",
    "TRACEPOND_MAX_BODY_BYTES": "1000",
    "TRACEPOND_MAX_ATTRIBUTE_BYTES": "2000",
    "TRACEPOND_MAX_QUEUED_SPANS": "3000",
    "TRACEPOND_MAX_COMMIT_SPANS": "400",
    "TRACEPOND_DUCKDB_MEMORY_LIMIT": "1GB",
    "TRACEPOND_DUCKDB_THREADS": "3",
    "TRACEPOND_DECODE_WORKER_NICE": "0",
    "TRACEPOND_LOG_JSON": "yes",
}


def test_env_beats_default() -> None:
    settings = ServerSettings.load(env=ENV)
    assert settings == ServerSettings(
        host="0.0.0.0",
        grpc_port=5317,
        http_port=5318,
        store=StoreUrl.duckdb("/data/env.duckdb"),
        max_body_bytes=1000,
        max_attribute_bytes=2000,
        max_queued_spans=3000,
        max_commit_spans=400,
        duckdb_memory_limit="1GB",
        duckdb_threads=3,
        decode_worker_nice=0,
        log_json=True,
    )


def test_flag_beats_env_and_none_means_not_given() -> None:
    settings = ServerSettings.load(
        env=ENV,
        host="::1",
        grpc_port=0,
        http_port=None,
        db_path="/flag.duckdb",
        max_body_bytes=5,
        max_queued_spans=None,
        log_json=False,
    )
    assert settings.host == "::1"
    assert settings.grpc_port == 0  # 0 is a value (any free port), not "not given"
    assert settings.http_port == 5318
    assert settings.store == StoreUrl.duckdb("/flag.duckdb")
    assert settings.max_body_bytes == 5
    assert settings.max_queued_spans == 3000
    assert settings.log_json is False  # an explicit False flag beats the env


def test_empty_env_value_is_not_given() -> None:
    assert (
        ServerSettings.load(env={"TRACEPOND_HTTP_PORT": "", "TRACEPOND_DB": ""}) == ServerSettings()
    )


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACEPOND_MAX_COMMIT_SPANS", "77")
    assert ServerSettings.load().max_commit_spans == 77


@pytest.mark.parametrize(
    ("flags", "env"),
    [
        ({"grpc_port": 65536}, {}),
        ({"http_port": -1}, {}),
        ({}, {"TRACEPOND_GRPC_PORT": "http"}),
        ({"max_body_bytes": 0}, {}),
        ({}, {"TRACEPOND_MAX_COMMIT_SPANS": "-1"}),
        ({}, {"TRACEPOND_DUCKDB_THREADS": "two"}),
        ({}, {"TRACEPOND_DECODE_WORKER_NICE": "20"}),
        ({}, {"TRACEPOND_DECODE_WORKER_NICE": "-5"}),
    ],
)
def test_invalid_values_raise_value_error(flags: dict[str, object], env: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ServerSettings.load(env=env, **flags)


def test_unknown_flag_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown settings"):
        ServerSettings.load(env={}, colour="blue")


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "on", " on "])
def test_bool_env_true(text: str) -> None:
    assert ServerSettings.load(env={"TRACEPOND_LOG_JSON": text}).log_json is True


@pytest.mark.parametrize("text", ["0", "false", "no", "off", "nope"])
def test_bool_env_false(text: str) -> None:
    assert ServerSettings.load(env={"TRACEPOND_LOG_JSON": text}).log_json is False
