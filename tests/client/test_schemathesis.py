"""Schemathesis against the real seeded server's /openapi.json: every GET /api/* operation,
with a bounded number of generated requests each. Fails on any 5xx, on a status code the schema
does not document, and on a response body that does not match the documented schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


@pytest.mark.slow
def test_api_conforms_to_its_openapi_schema(server: Any, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "run",
            f"{server.url}/openapi.json",
            # Includes of different kinds widen the selection (method OR path): reads are
            # selected by excluding every other method (a POST /api/keys would turn auth on).
            "--include-path-regex",
            "^/api/",
            "--exclude-method-regex",
            "^(POST|PUT|PATCH|DELETE)$",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "40",
            "--seed",
            "5",
            "--workers",
            "2",
            "--no-color",
            "--generation-database",
            "none",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert tested and int(tested.group(1)) >= 9, result.stdout[-3000:]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/traces", {"max_duration": "0\u00b2"}),  # "²".isdigit() but int("²") fails
        ("/api/spans", {"min_duration": "\u00b2"}),
        ("/api/traces", {"since": "\u00b2"}),
        ("/api/stats", {"bucket": "5\u00b2"}),
        ("/api/traces/{trace}/skeleton", {"cursor": "\u00b2"}),
    ],
)
def test_found_by_schemathesis(server: Any, seed: Any, path: str, params: dict[str, str]) -> None:
    """Unicode digits were 500s; they are 400s in the one error shape."""
    response = server.get(path.format(trace=seed.ids["deep"]), **params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"
