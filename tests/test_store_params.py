"""The server tests that run once per store keep doing so (tests/conftest.py: ``store_kind``):
a fixture change that silently dropped the chdb runs would otherwise go unnoticed, every test
still passing on DuckDB alone."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# The packages and modules whose servers run on every store (issue #21).
PER_STORE = (
    "api",
    "search",
    "web",
    "client",
    "query",
    "operate/test_jaeger.py",
)
# Their tests that start no server of a store, or only one whose settings are the subject.
STORELESS = re.compile(
    r"test_error_shape|test_host_check\.py::test_(configured|the_env|policy|host_names)"
    r"|test_nesting_is_bounded|test_skeleton_build|test_tree\.py|test_static\.py::test_(csp|shell"
    r"|modules_never)|test_sign_in|test_export\.py::test_unreachable"
)
STORE_ID = re.compile(r"\[(duckdb|chdb)(?:-|\])")


def collect(*args: str, cwd: Path = TESTS.parent) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_api_search_jaeger_web_and_client_tests_run_on_both_stores() -> None:
    ids = collect(*(str(TESTS / part) for part in PER_STORE))
    on = {kind: {i for i in ids if f"[{kind}" in i} for kind in ("duckdb", "chdb")}
    twins = {i.replace("[duckdb", "[chdb", 1) for i in on["duckdb"]}
    assert twins == on["chdb"], "every test runs on chdb as on duckdb"
    for part in PER_STORE:
        assert any(part in i for i in on["chdb"]), f"no test of {part} runs on chdb"
    once = [i for i in ids if not STORE_ID.search(i) and not STORELESS.search(i)]
    assert not once, f"tests that run on one store only: {once}"


def test_duckdb_only_keeps_a_test_on_duckdb(tmp_path: Path) -> None:
    shutil.copy(TESTS / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_any(store_kind):\n    pass\n\n"
        "@pytest.mark.duckdb_only\n"
        "def test_file(store_kind):\n    pass\n\n"
        "def test_storeless():\n    pass\n"
    )
    assert sorted(collect("--rootdir", str(tmp_path), str(tmp_path), cwd=tmp_path)) == [
        "test_sample.py::test_any[chdb]",
        "test_sample.py::test_any[duckdb]",
        "test_sample.py::test_file[duckdb]",
        "test_sample.py::test_storeless",
    ]
