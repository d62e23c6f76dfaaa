"""Defensive coercion: never raises, None when unreadable."""

from __future__ import annotations

import pytest

from tracepond.conventions._coerce import jsonish, mapping, string_list, to_float, to_int, to_str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        ("12", 12),
        (" 12 ", 12),
        ('"12"', 12),
        (12.0, 12),
        ("12.0", 12),
        (-1, None),
        (True, None),
        (float("nan"), None),
        ("1e400", None),
        ("twelve", None),
        (None, None),
        ([12], None),
    ],
)
def test_to_int(raw: object, expected: int | None) -> None:
    assert to_int(raw) == expected


def test_to_float_and_to_str() -> None:
    assert to_float("0.5") == 0.5 and to_float(10**400) is None and to_float("inf") is None
    assert to_str('"gpt-4o"') == "gpt-4o" and to_str("  ") is None and to_str({}) is None
    assert to_str('"unterminated') == '"unterminated'


def test_mapping_reads_json_repr_and_double_encoded_json() -> None:
    assert mapping('{"a": 1}') == {"a": 1}
    assert mapping("{'a': 1}") == {"a": 1}  # LangSmith str(dict)
    assert mapping('"{\\"a\\": 1}"') == {"a": 1}  # MLflow JSON-quoted object
    assert mapping("{'a': __import__('os')}") is None  # literal_eval only, no code
    assert mapping("[1]") is None and mapping(3) is None


def test_jsonish_keeps_free_text() -> None:
    assert jsonish("What is X?") == "What is X?"
    assert jsonish("[not json") == "[not json"
    assert jsonish('{"a": [1]}') == {"a": [1]}
    assert jsonish("42") == "42"


def test_string_list() -> None:
    assert string_list("a, b") == ["a", "b"]
    assert string_list('["a", 1, "b"]') == ["a", "b"]
    assert string_list(["", " "]) is None
