"""The fast view rendering agrees with SpanView.to_dict on every span captured from producers."""

from __future__ import annotations

import pytest

from conventions.otlp_fixtures import FIXTURES, load
from tracepond.conventions import SpanInput, SpanView, normalize
from tracepond.query._render import view_dict

PRODUCERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "scripts")


@pytest.mark.parametrize("producer", PRODUCERS)
def test_view_dict_equals_to_dict(producer: str) -> None:
    spans = load(producer)
    assert spans
    for captured in spans:
        view = normalize(captured.span)
        assert view_dict(view) == view.to_dict(), captured.span.name


def test_view_dict_of_an_empty_view_and_of_values_orjson_cannot_write() -> None:
    assert view_dict(SpanView()) == SpanView().to_dict()
    huge = normalize(SpanInput(name="t", kind=1, status_code=0, status_message="", attributes={}))
    huge.metadata = {"n": 2**80}  # e.g. parsed from a JSON attribute; orjson refuses it
    assert view_dict(huge) == huge.to_dict()
