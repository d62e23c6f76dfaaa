#!/usr/bin/env bash
# The whole test suite, from a fresh machine with only Python 3.11+:
# creates .venv, installs the project with its dev extras, then runs lint, types and tests.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k tree`).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet --editable '.[dev]'
# Browser tests drive Debian's Chromium (never Playwright's download); they fail without it in CI.
if ! command -v chromium >/dev/null && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    { apt-get update && apt-get install -y --no-install-recommends chromium; } >/dev/null
fi

echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/pytest "$@"
status=$?
set -e
# pytest exits 5 when it collected no tests: a suite that ran nothing must not pass.
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
exit "$status"
