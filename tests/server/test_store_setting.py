"""The store setting: ``--store`` / ``TRACEPOND_STORE`` URLs parsed once into ``StoreUrl``,
``--db`` as their shorthand, flag > env > default, clear errors for bad URLs, a password never
shown, and the factory ``open_store``."""

from __future__ import annotations

import logging
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tracepond.errors import InvalidStoreConfig, StorageUnavailable
from tracepond.server_settings import ServerSettings
from tracepond.store.open import open_store
from tracepond.store.url import StoreUrl, parse_store_url, redact

SECRET = "s3cret-pw"

# -- parsing each scheme ---------------------------------------------------------------------


def test_duckdb_url_is_a_path_as_given() -> None:
    assert parse_store_url("duckdb:///var/lib/tracepond/t.duckdb") == StoreUrl(
        "duckdb", path=Path("/var/lib/tracepond/t.duckdb")
    )
    relative = parse_store_url("duckdb://data/t.duckdb")
    assert relative.path == Path("data/t.duckdb") and relative.engine == "duckdb"
    assert relative.display == "data/t.duckdb"


def test_clickhouse_url() -> None:
    url = parse_store_url(f"clickhouse://writer:{SECRET}@ch.internal:9000/traces")
    assert url == StoreUrl(
        "clickhouse",
        host="ch.internal",
        port=9000,
        database="traces",
        username="writer",
        password=SECRET,
    )
    assert url.engine == "clickhouse"
    assert url.display == "clickhouse://writer:***@ch.internal:9000/traces"
    assert url.secret_url() == f"clickhouse://writer:{SECRET}@ch.internal:9000/traces"


def test_clickhouse_url_defaults() -> None:
    # No database: the store's own default (None here).
    url = parse_store_url("clickhouse://ch")
    assert url == StoreUrl("clickhouse", host="ch", port=8123, username="default")
    assert parse_store_url(url.secret_url()) == url
    secure = parse_store_url("clickhouses://u:p@ch/db")
    assert (secure.scheme, secure.port, secure.password) == ("clickhouses", 8443, "p")


def test_clickhouse_url_escapes_round_trip() -> None:
    url = parse_store_url("clickhouse://us%40er:p%2Fa%3Ass%40@[::1]:8123/db")
    assert (url.username, url.password, url.host) == ("us@er", "p/a:ss@", "::1")
    assert parse_store_url(url.secret_url()) == url
    assert "p/a:ss@" not in url.display and "p%2F" not in url.display


def test_chdb_url() -> None:
    url = parse_store_url("chdb:///tmp/trace%20data")
    assert url == StoreUrl("chdb", path=Path("/tmp/trace data"))
    assert url.engine == "clickhouse"
    assert parse_store_url(url.secret_url()) == url
    named = parse_store_url("chdb:///tmp/ch?database=traces")
    assert named.database == "traces" and parse_store_url(named.secret_url()) == named


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tracepond.duckdb", "not a store URL"),
        ("postgres://u:PW@h/db", "not a store URL"),
        ("duckdb://", "names a file"),
        ("clickhouse://u:PW@/db", "names a server"),
        ("clickhouse://u:PW@h:99999/db", "not a usable store URL"),
        ("clickhouse://u:PW@h:port/db", "not a usable store URL"),
        ("clickhouse://u:PW@h/1db", "database name"),
        ("clickhouse://u:PW@h/db;drop", "database name"),
        ("clickhouse://u:PW@h/db?insert_quorum=2", "no ?options"),
        ("clickhouse://u:PW@h/db#x", "no #fragment"),
        ("chdb://relative/dir", "names a directory"),
        ("chdb:///dir?db=x", "only ?database"),
    ],
)
def test_bad_urls_are_clear_errors_without_the_password(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        parse_store_url(text.replace("PW", SECRET))
    assert SECRET not in str(raised.value)


def test_redact_hides_a_password_of_any_url() -> None:
    assert redact(f"ftp://me:{SECRET}@host/x") == "ftp://me:***@host/x"
    assert redact("clickhouse://host/db") == "clickhouse://host/db"


# -- settings: --db, precedence ----------------------------------------------------------------


def load(env: dict[str, str] | None = None, **flags: object) -> StoreUrl:
    return ServerSettings.load(env=env or {}, **flags).store


def test_default_is_the_duckdb_file_in_the_working_directory() -> None:
    assert load() == StoreUrl.duckdb("tracepond.duckdb")


def test_db_is_short_for_a_duckdb_url() -> None:
    assert load(db_path="/data/t.duckdb") == load(store="duckdb:///data/t.duckdb")
    assert load(env={"TRACEPOND_DB": "t.duckdb"}) == load(
        env={"TRACEPOND_STORE": "duckdb://t.duckdb"}
    )


def test_db_and_store_together_must_agree(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    same = load(store=f"duckdb://{db}", db_path=str(tmp_path / "." / "t.duckdb"))
    assert same.path == db
    with pytest.raises(ValueError, match=r"--store .* and --db .* name different databases"):
        load(store=f"duckdb://{tmp_path / 'other.duckdb'}", db_path=str(db))
    with pytest.raises(ValueError, match="different databases") as raised:
        load(store=f"clickhouse://u:{SECRET}@h/db", db_path=str(db))
    assert SECRET not in str(raised.value)
    env = {"TRACEPOND_STORE": "chdb:///x", "TRACEPOND_DB": str(db)}
    with pytest.raises(ValueError, match=r"TRACEPOND_STORE .* and TRACEPOND_DB"):
        load(env=env)


def test_flag_beats_env_beats_default() -> None:
    env = {"TRACEPOND_STORE": "clickhouse://ch/traces"}
    assert load(env=env).host == "ch"
    assert load(env=env, db_path="flag.duckdb") == StoreUrl.duckdb("flag.duckdb")
    assert load(env={"TRACEPOND_DB": "env.duckdb"}, store="chdb:///d").scheme == "chdb"
    assert load(env={"TRACEPOND_STORE": "", "TRACEPOND_DB": ""}) == StoreUrl.duckdb(
        "tracepond.duckdb"
    )


def test_a_bad_url_names_its_source() -> None:
    with pytest.raises(ValueError, match=r"^--store: not a store URL"):
        load(store="mysql://h")
    with pytest.raises(ValueError, match=r"^TRACEPOND_STORE: not a store URL"):
        load(env={"TRACEPOND_STORE": "mysql://h"})


# -- the password is never shown ---------------------------------------------------------------


def test_password_never_in_str_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = ServerSettings.load(env={"TRACEPOND_STORE": f"clickhouse://u:{SECRET}@h/db"})
    url = settings.store
    assert url.password == SECRET
    with caplog.at_level(logging.INFO):
        logging.getLogger("tracepond.test").info("store %s settings %r", url, settings)
    shown = [str(url), repr(url), f"{url}", url.display, repr(settings), caplog.text]
    assert all(SECRET not in text for text in shown)
    assert "clickhouse://u:***@h:8123/db" in caplog.text


# -- the factory ---------------------------------------------------------------------------------


def test_factory_opens_duckdb(tmp_path: Path) -> None:
    store = open_store(parse_store_url(f"duckdb://{tmp_path / 'f.duckdb'}"))
    try:
        assert store.counts() == (0, 0)
        assert store.projects_exists("default")
    finally:
        store.close()
    assert (tmp_path / "f.duckdb").exists()


def test_factory_without_the_clickhouse_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """As when clickhouse-connect (or the store module) is not installed: importing fails."""
    monkeypatch.setitem(sys.modules, "tracepond.store.clickhouse", None)
    for text in (f"clickhouse://u:{SECRET}@h/db", "chdb:///tmp/x"):
        with pytest.raises(InvalidStoreConfig) as raised:
            open_store(parse_store_url(text))
        message = str(raised.value)
        assert "the ClickHouse store needs `pip install 'tracepond[clickhouse]'`" in message
        assert SECRET not in message


def fake_clickhouse_module(from_url: Any) -> types.ModuleType:
    module = types.ModuleType("tracepond.store.clickhouse")
    module.ClickHouseStore = type("ClickHouseStore", (), {"from_url": staticmethod(from_url)})  # type: ignore[attr-defined]
    return module


def test_factory_hands_the_clickhouse_store_its_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """The call to ``ClickHouseStore.from_url`` (its module stood in for here): the full URL,
    password included, goes to the store and nowhere else."""
    given: list[str] = []
    opened = object()

    def from_url(url: str, **options: object) -> object:
        given.append(url)
        return opened

    monkeypatch.setitem(sys.modules, "tracepond.store.clickhouse", fake_clickhouse_module(from_url))
    text = f"clickhouses://u:{SECRET}@h:8443/db"
    assert open_store(parse_store_url(text)) is opened  # type: ignore[comparison-overlap]
    assert given == [text]


def test_factory_clears_the_password_from_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def from_url(url: str, **options: object) -> object:
        raise StorageUnavailable(f"cannot connect to {url}: connection refused")

    monkeypatch.setitem(sys.modules, "tracepond.store.clickhouse", fake_clickhouse_module(from_url))
    with pytest.raises(StorageUnavailable) as raised:
        open_store(parse_store_url(f"clickhouse://u:{SECRET}@h/db"))
    assert SECRET not in str(raised.value) and "connection refused" in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


# -- the ClickHouse store's options ----------------------------------------------------------


def test_clickhouse_options_from_flags_and_env() -> None:
    env = {"TRACEPOND_CLICKHOUSE_INSERT_QUORUM": "auto", "TRACEPOND_CLICKHOUSE_QUERY_MEMORY": "1GB"}
    settings = ServerSettings.load(env=env, clickhouse_cluster="traces_cluster", query_timeout=7)
    options = settings.store_options()
    assert options.clickhouse_cluster == "traces_cluster"
    assert options.clickhouse_insert_quorum == "auto"
    assert (options.clickhouse_query_memory, options.query_timeout) == ("1GB", 7.0)
    assert ServerSettings.load(env={}, clickhouse_insert_quorum="3").clickhouse_insert_quorum == 3
    assert ServerSettings.load(env={}).clickhouse_cluster is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("clickhouse_cluster", "two words", "not a ClickHouse cluster name"),
        ("clickhouse_cluster", "c; DROP TABLE spans", "not a ClickHouse cluster name"),
        ("clickhouse_insert_quorum", "1", "insert quorum"),
        ("clickhouse_insert_quorum", "most", "insert quorum"),
        ("clickhouse_query_memory", "lots", "not a size: .lots."),
    ],
)
def test_bad_clickhouse_options_are_refused(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerSettings.load(env={}, **{field: value})


def test_factory_hands_the_clickhouse_store_its_options(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[dict[str, object]] = []

    def from_url(url: str, **options: object) -> object:
        given.append(options)
        return object()

    monkeypatch.setitem(sys.modules, "tracepond.store.clickhouse", fake_clickhouse_module(from_url))
    settings = ServerSettings.load(
        env={},
        clickhouse_cluster="c1",
        clickhouse_insert_quorum="2",
        clickhouse_query_memory="512MB",
        query_timeout=3,
    )
    open_store(parse_store_url("clickhouse://h/db"), settings.store_options())
    assert given == [
        {
            "ttl_days": None,
            "cluster": "c1",
            "insert_quorum": 2,
            "max_execution_time": 3.0,
            "max_memory_usage": 512_000_000,
        }
    ]


def test_a_chdb_store_reads_under_the_settings_limits(tmp_path: Path) -> None:
    pytest.importorskip("chdb", reason="the chdb engine is a test dependency")
    settings = ServerSettings.load(env={}, query_timeout=4, clickhouse_query_memory="1GB")
    store = open_store(parse_store_url(f"chdb://{tmp_path / 'ch'}"), settings.store_options())
    try:
        limits = store._sessions.read_settings  # type: ignore[attr-defined]
        assert limits["max_execution_time"] == 4.0
        assert limits["max_memory_usage"] == 1_000_000_000
    finally:
        store.close()


def test_the_retention_reaches_the_clickhouse_store_as_whole_days_of_ttl(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    given: list[object] = []

    def from_url(url: str, **options: object) -> object:
        given.append(options["ttl_days"])
        return object()

    monkeypatch.setitem(sys.modules, "tracepond.store.clickhouse", fake_clickhouse_module(from_url))
    for retention in ("30d", "36h", "1h"):
        settings = ServerSettings.load(env={}, retention_ns=retention)
        open_store(parse_store_url("clickhouse://h/db"), settings.store_options())
    assert given == [30, 2, 1]
