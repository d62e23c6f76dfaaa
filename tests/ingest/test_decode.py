"""The pure decoder, without a server: value mapping, truncation, rejection reasons."""

from __future__ import annotations

import orjson

from ingest.otlp_build import key_values, make_request, make_span, span_id, trace_id
from tracepond.conventions import SpanView
from tracepond.ingest._limits import TRUNCATION_MARK
from tracepond.ingest.decode import SpanDecoder
from tracepond.ingest.decoding import decode_body
from tracepond.model.spans import SPAN_COLUMNS, VIEW_COLUMNS


def decode_one(limit: int = 1024, **span_args: object) -> dict[str, object]:
    trace, span = trace_id(), span_id()
    request = make_request([make_span(trace, span, "s", **span_args)])  # type: ignore[arg-type]
    batch = SpanDecoder(limit).decode(request)
    assert batch.accepted == 1
    columns = batch.rows.columns
    return {name: values[0] for name, values in columns.items()}


def test_non_finite_doubles_keep_their_meaning_in_json() -> None:
    row = decode_one(attributes={"nan": float("nan"), "up": float("inf"), "down": float("-inf")})
    assert orjson.loads(str(row["attributes_json"])) == {
        "nan": "NaN",
        "up": "Infinity",
        "down": "-Infinity",
    }


def test_truncation_limit_counts_utf8_bytes_not_characters() -> None:
    # 300 four-byte characters are 1,200 bytes: over a 1,024-byte limit though only 300 chars.
    emoji = "\N{GRINNING FACE}" * 300
    row = decode_one(limit=1024, attributes={"text": emoji, "ascii": "a" * 1024})
    stored = orjson.loads(str(row["attributes_json"]))
    assert stored["text"] == "\N{GRINNING FACE}" * 256 + TRUNCATION_MARK
    assert stored["ascii"] == "a" * 1024
    assert orjson.loads(str(row["truncated_json"])) == ["text"]


def test_cut_keys_say_where_the_value_was() -> None:
    trace, span = trace_id(), span_id()
    proto = make_span(trace, span, "s", attributes={"own": "x" * 50})
    event = proto.events.add(name="log", time_unix_nano=proto.start_time_unix_nano)
    event.attributes.extend(key_values({"body": "y" * 50}))
    request = make_request([proto], resource={"host.note": "z" * 50})
    batch = SpanDecoder(16).decode(request)
    cuts = orjson.loads(batch.rows.columns["truncated_json"][0])
    assert cuts == ["resource:host.note", "own", "event:log:body"]


def test_invalid_spans_are_rejected_one_by_one_with_reasons() -> None:
    trace = trace_id()
    spans = [
        make_span(trace, span_id(), "ok"),
        make_span(trace, b"\x00" * 8, "zero id"),
        make_span(b"\x01" * 8, span_id(), "short trace id"),
        make_span(trace, span_id(), ""),
        make_span(trace, span_id(), "backwards", start=2_000, end=1_000),
    ]
    outcome = decode_body(SpanDecoder(1024), make_request(spans).SerializeToString(), "protobuf")
    assert outcome.accepted == 1
    assert outcome.rejected == 4
    message = outcome.error_message()
    for reason in ("span_id", "trace_id", "missing name", "before start_time"):
        assert reason in message


def test_view_columns_are_in_the_order_the_decoder_writes_them() -> None:
    # The decoder writes one tuple per span; its view part follows SpanView.columns().
    assert tuple(SpanView().columns()) == VIEW_COLUMNS
    assert SPAN_COLUMNS[-len(VIEW_COLUMNS) :] == VIEW_COLUMNS


def test_every_column_holds_its_own_value() -> None:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "m-1",
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 3,
        "session.id": "s",
        "user.id": "u",
    }
    row = decode_one(attributes=attributes, status_code=2, status_message="bad")
    assert (row["name"], row["status_code"], row["status_message"]) == ("s", 2, "bad")
    assert (row["category"], row["model"], row["input_tokens"], row["output_tokens"]) == (
        "llm",
        "m-1",
        7,
        3,
    )
    assert (row["total_tokens"], row["session_id"], row["user_id"]) == (10, "s", "u")
    assert row["service_name"] == "test-service"
