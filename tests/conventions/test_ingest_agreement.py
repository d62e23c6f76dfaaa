"""The ingest decoder's per-span records normalize exactly like this package's own converter.

This is also the integration recipe: ``SpanRows`` keeps each span's decoded ``attributes`` and
``events`` next to its columns (``SpanDecoder(keep_values=True)``), which is all ``normalize``
needs.
"""

from __future__ import annotations

import gzip

import orjson
import pytest

from tracepond.conventions import (
    SpanInput,
    default_prices,
    normalize_strict,
    price_view,
    view_from_json,
)
from tracepond.ingest._rows import SpanRows
from tracepond.ingest.decode import SpanDecoder, parse_protobuf
from tracepond.ingest.otlp_json import parse_json
from tracepond.model.spans import SPAN_COLUMNS

from .otlp_fixtures import FIXTURES, load

PRODUCERS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "scripts")
assert len(PRODUCERS) >= 11, PRODUCERS


def _decoded_rows(producer: str) -> list[SpanRows]:
    """The producer's captured requests, through the ingest decoder."""
    out = []
    for path in sorted((FIXTURES / producer).iterdir()):
        body = path.read_bytes()
        if path.name.endswith(".gz"):
            body = gzip.decompress(body)
        request = parse_json(body) if ".json" in path.name else parse_protobuf(body)
        decoder = SpanDecoder(max_attribute_bytes=1 << 20, keep_values=True)
        out.append(decoder.decode(request).rows)
    return out


def _decoded(producer: str) -> list[SpanInput]:
    out = []
    for rows in _decoded_rows(producer):
        for i in range(len(rows)):
            out.append(
                SpanInput(
                    name=rows.columns["name"][i],
                    kind=rows.columns["kind"][i],
                    status_code=rows.columns["status_code"][i],
                    status_message=rows.columns["status_message"][i],
                    attributes=rows.attributes[i],
                    events=rows.events[i],
                )
            )
    return out


@pytest.mark.parametrize("producer", PRODUCERS)
def test_decoder_records_normalize_like_the_reference_converter(producer: str) -> None:
    ours = [normalize_strict(captured.span).to_dict() for captured in load(producer)]
    theirs = [normalize_strict(span).to_dict() for span in _decoded(producer)]
    assert theirs == ours


@pytest.mark.parametrize("producer", PRODUCERS)
def test_the_stored_view_reads_back_as_the_reference_view(producer: str) -> None:
    # What ingest stores in view_json is what the API returned when it derived views on read,
    # with the cost of LLM calls that sent none priced at the span's start (docs/cost.md).
    starts = [start for rows in _decoded_rows(producer) for start in rows.columns["start_ns"]]
    expected = []
    for span, start_ns in zip(_decoded(producer), starts, strict=True):
        view = normalize_strict(span)
        price_view(view, start_ns, default_prices())
        expected.append(view.to_dict())
    stored: list[str | None] = []
    columns: list[dict[str, object]] = []
    attributes: list[dict[str, object]] = []
    for rows in _decoded_rows(producer):
        stored += rows.columns["view_json"]
        values = zip(*(rows.columns[name] for name in SPAN_COLUMNS), strict=True)
        columns += [dict(zip(SPAN_COLUMNS, row, strict=True)) for row in values]
        attributes += rows.attributes
    assert all(text is not None for text in stored)
    read_back = [
        view_from_json(text, record, raw)
        for text, record, raw in zip(stored, columns, attributes, strict=True)
        if text
    ]
    assert read_back == orjson.loads(orjson.dumps(expected))
